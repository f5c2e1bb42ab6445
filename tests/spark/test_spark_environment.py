"""The `spark` environment: messages name the file given, and Spark listens on this machine only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import RAW_LOANS, make_kedro_project, run_kedro


def test_a_header_only_file_given_at_run_time_is_named_in_the_message(
    spark, tmp_path: Path, tracking_uri: str
):
    raw = pd.read_csv(RAW_LOANS, nrows=20, low_memory=False)
    project = make_kedro_project(tmp_path / "project", raw, {}, env="spark")
    given = tmp_path / "given" / "header_only.csv"
    given.parent.mkdir()
    given.write_text(",".join(raw.columns) + "\n")
    with pytest.raises(Exception, match="the file has no rows") as error:
        run_kedro(project, "loan", env="spark", runtime_params={"raw_loans_path": str(given)})
    assert str(error.value).startswith(f"{given}: ")
    assert "loans_sample" not in str(error.value)


# Starts a session from a spark.yml in its own process (the tests' session has no UI), and
# prints the UI address, the driver host and the JVM's listening TCP sockets (/proc/<pid>/net).
SESSION_SCRIPT = """
import json, sys
from pathlib import Path
import yaml
from loan_default.spark.session import start_session

conf = yaml.safe_load(Path(sys.argv[1]).read_text())
conf |= {"spark.master": "local[1]", "spark.driver.memory": "1g"}
session = start_session(conf, "listen-test")
context = session.sparkContext
pid = context._jvm.java.lang.ProcessHandle.current().pid()
sockets = set()
for fd in Path(f"/proc/{pid}/fd").iterdir():
    target = fd.readlink().name if fd.is_symlink() else ""
    if target.startswith("socket:["):
        sockets.add(target[8:-1])
listening = []
for table in ("tcp", "tcp6"):
    for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and fields[9] in sockets:  # LISTEN, and this JVM's socket
            listening.append(fields[1])
print(json.dumps({"ui": context.uiWebUrl, "host": session.conf.get("spark.driver.host"),
                  "listening": listening}))
session.stop()
"""
# /proc/net addresses in hex: 127.0.0.1, ::ffff:127.0.0.1 and ::1.
LOOPBACK = {"0100007F", "0000000000000000FFFF00000100007F", "00000000000000000000000001000000"}


@pytest.mark.skipif(not Path("/proc/self/net/tcp").exists(), reason="reads Linux's /proc")
def test_the_spark_environment_listens_on_this_machine_only():
    spark_yml = Path(__file__).resolve().parents[2] / "conf" / "spark" / "spark.yml"
    env = {key: value for key, value in os.environ.items() if key != "SPARK_LOCAL_IP"}
    result = subprocess.run(
        [sys.executable, "-c", SESSION_SCRIPT, str(spark_yml)],
        capture_output=True, text=True, env=env, timeout=180, check=True,
    )  # fmt: skip
    found = json.loads(next(x for x in result.stdout.splitlines()[::-1] if x.startswith("{")))
    assert found["ui"].startswith("http://127.0.0.1:") and found["host"] == "127.0.0.1"
    addresses = [address.split(":")[0] for address in found["listening"]]
    assert len(addresses) >= 3, found  # driver RPC, block manager, UI
    assert set(addresses) <= LOOPBACK, found


def test_a_truncated_gzip_given_to_spark_is_named_before_any_node(spark, tmp_path, tracking_uri):
    raw = pd.read_csv(RAW_LOANS, nrows=2000, low_memory=False)
    project = make_kedro_project(tmp_path / "project", raw.head(20), {}, env="spark")
    given = tmp_path / "given.csv.gz"
    raw.to_csv(given, index=False)
    given.write_bytes(given.read_bytes()[: given.stat().st_size * 6 // 10])
    with pytest.raises(Exception, match="the gzip file is truncated or corrupt") as error:
        run_kedro(project, "loan", env="spark", runtime_params={"raw_loans_path": str(given)})
    assert str(error.value).startswith(f"{given}: ")
    assert not [path for path in (project / "data" / "spark").rglob("*") if path.is_file()]
