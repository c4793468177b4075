"""The benchmark floor: a minimal Streamlit page that draws one small Plotly chart."""

import plotly.graph_objects as go
import streamlit as st

st.title("Reference")
st.plotly_chart(go.Figure(go.Bar(x=["a", "b", "c"], y=[3, 1, 2])), width="stretch")
