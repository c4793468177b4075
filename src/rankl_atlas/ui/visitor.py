"""A visitor's own uploaded rows: kept in this session only."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from rankl_atlas import upload
from rankl_atlas.data import Tables
from rankl_atlas.ui.state import StateKey


@dataclass(frozen=True)
class VisitorState:
    """This session's uploaded rows (never shared) and the last upload's error, if any."""

    result: upload.UploadResult | None
    error: str | None


def visitor_state() -> VisitorState:
    """The visitor's upload state for this session."""
    return VisitorState(st.session_state.get(StateKey.VISITOR_RESULT), st.session_state.get(StateKey.VISITOR_ERROR))


def accept_upload(name: str, data: bytes, file_id: str, atlas: Tables) -> None:
    """Validate an uploaded file and keep its valid rows in this session only."""
    state = st.session_state
    state[StateKey.VISITOR_FILE_ID] = file_id
    try:
        result = upload.check_upload(name, data, atlas)
    except upload.UploadRejected as err:
        state[StateKey.VISITOR_ERROR] = f"{name}: {err}"
        return
    state[StateKey.VISITOR_RESULT] = result
    state[StateKey.VISITOR_ERROR] = None


def uploaded_file_id() -> str | None:
    """The id of the file this session last accepted (so a rerun does not read it again)."""
    return st.session_state.get(StateKey.VISITOR_FILE_ID)


def upload_generation() -> int:
    """A number that changes when the visitor removes their rows (it resets the uploader widget)."""
    return st.session_state.get(StateKey.UPLOAD_GENERATION, 0)


def clear_upload() -> None:
    """Forget the visitor's rows and reset the uploader."""
    for key in (StateKey.VISITOR_RESULT, StateKey.VISITOR_ERROR, StateKey.VISITOR_FILE_ID):
        st.session_state.pop(key, None)
    st.session_state[StateKey.UPLOAD_GENERATION] = upload_generation() + 1
