"""Load-benchmark floor: one sidebar multiselect (key ``disease``) and one small Plotly chart that follows it.

The least a Streamlit page with a filter and a chart can cost; ``benchmarks/loadgen.py`` drives it exactly like
the atlas pages (see docs/load.md).
"""

import plotly.graph_objects as go
import streamlit as st

COUNTS = {"Osteoporosis": 14, "Rheumatoid arthritis": 9, "Multiple myeloma": 6, "Periodontitis": 5, "Other": 25}

chosen = st.sidebar.multiselect("Disease", list(COUNTS), key="disease", placeholder="All diseases")
shown = chosen or list(COUNTS)
st.plotly_chart(go.Figure(go.Bar(x=shown, y=[COUNTS[d] for d in shown])), width="stretch")
