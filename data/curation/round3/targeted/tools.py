import csv, re, glob, os, sys, difflib
BASE='/work/main/data'
ME=os.path.dirname(os.path.abspath(__file__))
def cols(path):
    return next(csv.reader(open(path)))
def dd(l):
    o=[]
    [o.append(x) for x in l if x not in o]
    return o
STUDY_COLS=dd(cols(f'{BASE}/source/studies.csv')+['year_basis','pmid_attribution','sex','menopausal_status','age_group'])
MEAS_COLS=dd([c for c in cols(f'{BASE}/source/measurements.csv') if c!='sd_assumed']+['spread_basis','sex','menopausal_status','age_group'])
FIND_COLS=dd(cols(f'{BASE}/source/findings.csv')+['comparison_family','contrast','contrast_detail'])
SCR_COLS=cols(f'{BASE}/search/screening.csv')
Q_COLS=cols(f'{BASE}/search/queries.csv')
FILES={'studies':('studies_new.csv',STUDY_COLS),'meas':('measurements_new.csv',MEAS_COLS),'find':('findings_new.csv',FIND_COLS),'scr':('screening_new.csv',SCR_COLS),'q':('queries.csv',Q_COLS)}
def append(kind,row):
    fn,cs=FILES[kind]; p=os.path.join(ME,fn)
    bad=set(row)-set(cs)
    assert not bad, bad
    new=not os.path.exists(p)
    with open(p,'a',newline='',encoding='utf-8') as f:
        w=csv.DictWriter(f,fieldnames=cs)
        if new: w.writeheader()
        w.writerow({c:row.get(c,'') for c in cs})
def norm(t):
    return re.sub(r'[^a-z0-9 ]','',re.sub(r'\s+',' ',(t or '').lower())).strip()
def load_all():
    recs=[]
    for r in csv.DictReader(open(f'{BASE}/source/studies.csv')):
        recs.append(('atlas',r['study_id'],r['title'],r['pmid'],r['doi'],r.get('source_url','')))
    for r in csv.DictReader(open(f'{BASE}/search/screening.csv')):
        recs.append(('screening',r['record_id']+':'+r['decision']+':'+r['exclusion_code'],r['title'],r['pmid'],r['doi'],r['url']))
    for r in csv.DictReader(open(f'{BASE}/search/duplicates.csv')):
        recs.append(('duplicates',r['record_id'],r['title'],'','',''))
    for p in glob.glob(f'{BASE}/curation/round3/*/studies_new.csv')+glob.glob(f'{BASE}/curation/round3/*/screening*.csv')+glob.glob(f'{BASE}/curation/round3/*/screening_updates.csv'):
        for r in csv.DictReader(open(p)):
            recs.append((p.split('/')[-2]+'/'+p.split('/')[-1],r.get('study_id') or r.get('record_id'),r.get('title',''),r.get('pmid',''),r.get('doi',''),r.get('url',r.get('source_url',''))))
    return recs
def check(title='',pmid='',doi='',url='',words=None,thr=0.72):
    recs=load_all(); nt=norm(title); out=[]
    for src,id_,t,p,d,u in recs:
        s=difflib.SequenceMatcher(None,nt,norm(t)).ratio() if nt and t else 0
        hit=s>=thr or (pmid and p and str(pmid).split('.')[0]==str(p).split('.')[0]) or (doi and d and doi.lower()==d.lower()) or (url and u and url in u)
        if words and t and all(w.lower() in t.lower() for w in words): hit=True
        if hit: out.append((round(s,2),src,id_,t[:120],p,d))
    return out
if __name__=='__main__':
    for x in check(*sys.argv[1:]): print(x)
def sid_free(sid):
    import glob
    for p in [f'{BASE}/source/studies.csv']+glob.glob(f'{BASE}/curation/round3/*/studies_new.csv'):
        for r in csv.DictReader(open(p)):
            if r['study_id']==sid: return False
    return True
