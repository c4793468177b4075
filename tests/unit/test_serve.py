"""deploy/serve.py's nginx config, and the load generator's cookies (sticky sessions behind the proxy)."""

from __future__ import annotations

import gzip
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import streamlit

from tests.conftest import ROOT


def _load(name: str, path: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


serve = _load("serve", "deploy/serve.py")
lg = _load("loadgen_for_serve", "benchmarks/loadgen.py")


def test_config_hashes_on_a_cookie_set_by_nginx_and_proxies_websockets(tmp_path):
    conf = serve.render_config([8601, 8602], "0.0.0.0:8080", tmp_path)
    assert "@" not in conf.replace("@name@", "")  # every placeholder filled
    assert "hash $rankl_sticky consistent;" in conf and "ip_hash" not in conf.split("#")[0]
    assert "server 127.0.0.1:8601" in conf and "server 127.0.0.1:8602" in conf
    assert f'"{serve.COOKIE}=$request_id; Path=/; HttpOnly; SameSite=Lax"' in conf
    assert "proxy_set_header Upgrade $http_upgrade;" in conf and "proxy_read_timeout 1d;" in conf
    assert "listen 0.0.0.0:8080;" in conf and f"pid {tmp_path}/nginx.pid;" in conf
    assert "access_log off;" in conf
    assert f"access_log {tmp_path}/nginx-access.log rankl;" in serve.render_config([1], "127.0.0.1:1", tmp_path, True)
    with pytest.raises(ValueError):
        serve.render_config([], "127.0.0.1:1", tmp_path)


def test_nginx_serves_streamlits_own_scripts_from_the_installed_package(tmp_path):
    web = Path(streamlit.__file__).parent / "static"
    assert (web / "index.html").exists() and any((web / "static" / "js").glob("*.js"))
    conf = serve.render_config([8601], "127.0.0.1:8080", tmp_path)
    assert f"alias {web}/static/;" in conf
    assert "application/javascript js;" in conf  # module scripts must not go out as application/octet-stream
    assert f"alias {tmp_path}/static/;" in serve.render_config([8601], "127.0.0.1:8080", tmp_path, static_dir=tmp_path)


def test_the_web_folder_for_nginx_links_each_file_and_gzips_scripts_without_writing_into_the_source(tmp_path):
    source = tmp_path / "package"
    (source / "static" / "js").mkdir(parents=True)
    script = source / "static" / "js" / "main.abc.js"
    script.write_text("const answer = 42;\n" * 200)
    (source / "favicon.png").write_bytes(b"\x89PNG not text")
    before = sorted(p.name for p in source.rglob("*"))
    web = serve.compressed_static(source, tmp_path / "run" / "web")
    linked = web / "static" / "js" / "main.abc.js"
    assert linked.is_symlink() and linked.resolve() == script.resolve()
    assert gzip.decompress((web / "static" / "js" / "main.abc.js.gz").read_bytes()) == script.read_bytes()
    assert (web / "favicon.png").is_symlink() and not (web / "favicon.png.gz").exists()  # images are not gzipped
    assert sorted(p.name for p in source.rglob("*")) == before  # nothing written into the package
    (web / "stale.js").write_text("left from an earlier start")
    serve.compressed_static(source, web)
    assert not (web / "stale.js").exists()  # rebuilt at every start


def test_nginx_accepts_the_config(tmp_path):
    nginx = serve.find_nginx()
    assert nginx is not None, serve.NGINX_HELP
    (tmp_path / "tmp").mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(serve.render_config([8601, 8602], "127.0.0.1:8080", tmp_path))
    check = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "e.log")], capture_output=True
    )
    assert check.returncode == 0, check.stderr.decode()


def test_loadgen_keeps_cookies_like_a_browser():
    lines = ["Content-Type: text/plain", "set-cookie: _streamlit_xsrf=2|a|b; Path=/", "Set-Cookie: rankl_worker=ab12"]
    assert lg.set_cookies(lines) == {"_streamlit_xsrf": "2|a|b", "rankl_worker": "ab12"}
    assert lg.cookie_header({"a": "1", "b": "2"}) == "a=1; b=2"
    assert lg.url_port("http://127.0.0.1:8080") == 8080
    with pytest.raises(ValueError):
        lg.url_port("http://example.org:80")


def test_serve_without_nginx_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(serve, "find_nginx", lambda explicit=None: None)
    assert serve.serve(serve.parse_args(["--run-dir", str(tmp_path)])) == 2
    assert "apt-get install nginx" in capsys.readouterr().err
