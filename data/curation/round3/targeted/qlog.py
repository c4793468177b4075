import sys
from tools import append
# qlog.py k "query" n_results n_new_cand n_new_incl
k,q,n,c,i=sys.argv[1:]
append('q',dict(query_id=f'targeted-q{k}',area='targeted',query=q,corpus='pages',date='2026-12-06',n_results=n,n_new_candidates=c,n_new_includes=i))
