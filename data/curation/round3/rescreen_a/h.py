import csv, os, sys
D='/work/main/data/curation/round3/rescreen_a/'
S='/work/main/data/source/'
def hdr(p): return next(csv.reader(open(p)))
def dd(l):
    o=[]
    [o.append(c) for c in l if c not in o]
    return o
STUD=dd(hdr(S+'studies.csv')+['year_basis','pmid_attribution','sex','menopausal_status','age_group'])
MEAS=['measurement_id', 'study_id', 'group_label', 'group_role', 'condition_group', 'n', 'analyte', 'analyte_form', 'specimen', 'assay_vendor', 'assay_attribution', 'assay_method', 'statistic', 'value', 'sd', 'se', 'q1', 'q3', 'min', 'max', 'ci_low', 'ci_high', 'unit', 'pct_undetectable', 'timepoint', 'source_location', 'locator', 'notes', 'assay_id', 'form_basis', 'spread_basis', 'sex', 'menopausal_status', 'age_group']
FIND=dd(hdr(S+'findings.csv')+['comparison_family','contrast','contrast_detail'])
SCRU=['record_id','decision','exclusion_code','study_id','note']
QUER=hdr('/work/main/data/search/queries.csv')
SCRN=hdr('/work/main/data/search/screening.csv')
FILES={'studies_new.csv':STUD,'measurements_new.csv':MEAS,'findings_new.csv':FIND,'screening_updates.csv':SCRU,'queries.csv':QUER,'screening_new.csv':SCRN}
def app(fn, rows):
    cols=FILES[fn]; p=D+fn; new=not os.path.exists(p)
    with open(p,'a',newline='',encoding='utf-8') as f:
        w=csv.DictWriter(f,fieldnames=cols)
        if new: w.writeheader()
        for r in rows:
            bad=set(r)-set(cols)
            assert not bad, bad
            w.writerow(r)
def q(k,text,n,nc=0,ni=0):
    app('queries.csv',[dict(query_id=f'rescreen_a-q{k}',area='rescreen_a',query=text,corpus='pages',date='2026-12-06',n_results=n,n_new_candidates=nc,n_new_includes=ni)])
def ex(rid,code,note):
    app('screening_updates.csv',[dict(record_id=rid,decision='exclude',exclusion_code=code,study_id='',note=note)])
def inc(rid,sid,note):
    app('screening_updates.csv',[dict(record_id=rid,decision='include',exclusion_code='',study_id=sid,note=note)])
ASSAY=dict(analyte_form='unspecified',specimen='serum',assay_vendor='not_reported',assay_attribution='not_reported')
def study(**kw):
    base=dict(ref_no='',source_set='search_2026',study_kind='human_circulating',circulating_measured='true',species='human',evidence_level='abstract',curation_status='curated')
    base.update(kw); app('studies_new.csv',[base])
def meas(sid,rows,common=None):
    out=[]
    for i,r in enumerate(rows,1):
        b=dict(study_id=sid,measurement_id=f'{sid}-m{i}',analyte_form='unspecified',specimen='serum',assay_vendor='not_reported',assay_attribution='not_reported',assay_method='not_reported',source_location='abstract',locator='Abstract',form_basis='')
        if common: b.update(common)
        b.update(r); out.append(b)
    app('measurements_new.csv',out)
def find(sid,rows,common=None):
    out=[]
    for i,r in enumerate(rows,1):
        b=dict(study_id=sid,finding_id=f'{sid}-f{i}',analyte_form='unspecified',specimen='serum',assay_vendor='not_reported',assay_attribution='not_reported',source_location='abstract',locator='Abstract',form_basis='')
        if common: b.update(common)
        b.update(r); out.append(b)
    app('findings_new.csv',out)
def ids():
    s=set()
    for p in [S+'studies.csv']+[os.path.join(r,f) for r,_,fs in os.walk('/work/main/data/curation/round3') for f in fs if f=='studies_new.csv']:
        s|={r['study_id'] for r in csv.DictReader(open(p))}
    return s
def check(sid):
    return sid in ids()
def rewrite(fn, fix):
    p=D+fn; rows=list(csv.DictReader(open(p,newline='',encoding='utf-8')))
    for r in rows:
        assert None not in r, r
        fix(r)
    tmp=p+'.tmp'
    with open(tmp,'w',newline='',encoding='utf-8') as f:
        w=csv.DictWriter(f,fieldnames=FILES[fn]); w.writeheader(); w.writerows(rows)
    os.replace(tmp,p)
