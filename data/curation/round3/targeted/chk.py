import sys
from tools import check
# usage: python3 chk.py "title1" "title2" ... ; prefix 'pmid:' or 'url:' or 'doi:'
for a in sys.argv[1:]:
    kw={}
    if a.startswith('pmid:'): kw['pmid']=a[5:]
    elif a.startswith('doi:'): kw['doi']=a[4:]
    elif a.startswith('url:'): kw['url']=a[4:]
    else: kw['title']=a
    res=check(**kw)
    print('##',a[:80],'->', 'NEW' if not res else '')
    for r in sorted(res,reverse=True)[:4]: print('   ',r)
