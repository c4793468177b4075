from tools import append
import csv, os, glob
SDEF=dict(ref_no='',study_kind='human_circulating',circulating_measured='true',species='human',evidence_level='abstract',
          curation_status='curated',source_set='search_2026')
def study(**d):
    row=dict(SDEF); row.update(d); append('studies',row)
def meas(sid, rows, **common):
    for k,r in enumerate(rows,1):
        row=dict(study_id=sid,measurement_id=f'{sid}-m{k}',analyte_form='unspecified',specimen='serum',assay_vendor='not_reported',
                 assay_attribution='not_reported',assay_method='not_reported',source_location='abstract',locator='Abstract')
        row.update(common); row.update(r); append('meas',row)
def find(sid, rows, **common):
    for k,r in enumerate(rows,1):
        row=dict(study_id=sid,finding_id=f'{sid}-f{k}',analyte_form='unspecified',specimen='serum',assay_vendor='not_reported',
                 assay_attribution='not_reported',source_location='abstract',locator='Abstract')
        row.update(common); row.update(r)
        if 'p_value' not in r and r.get('p_text','').startswith('='):
            row['p_value']=r['p_text'][1:]
        append('find',row)
def scr(k, **d):
    row=dict(record_id=f'targeted-r{k}',area='targeted'); row.update(d); append('scr',row)
def rewrite_scr(k, **d):
    p=os.path.join(os.path.dirname(os.path.abspath(__file__)),'screening_new.csv')
    rows=list(csv.DictReader(open(p))); cols=rows and list(rows[0].keys())
    for r in rows:
        if r['record_id']==f'targeted-r{k}': r.update(d)
    with open(p+'.tmp','w',newline='',encoding='utf-8') as f:
        w=csv.DictWriter(f,fieldnames=cols); w.writeheader(); w.writerows(rows)
    os.replace(p+'.tmp',p)
