"""The service as a user runs it: a folder with a .env, the CLI, curl-like calls."""

import httpx

USER_ENV = """\
API_KEY=e2e-key-abcdefghijkl
MAM_ID=e2e-mam-session-cookie
MAM_USERNAME=reader
MAM_PASSWORD=e2e-mam-password
QB_HOST=127.0.0.1
QB_PORT=1
QB_USERNAME=admin
QB_PASSWORD=e2e-qb-password
ABS_TOKEN=e2e-abs-token
"""
SECRETS = ("e2e-key-abcdefghijkl", "e2e-mam-session-cookie", "e2e-mam-password",
           "e2e-qb-password", "e2e-abs-token")


def test_a_full_run_answers_records_jobs_and_never_writes_env(service_factory):
    service = service_factory(USER_ENV)
    env_before = (service.workdir / ".env").read_bytes()

    upgraded = service.cli("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    service.start()
    health = httpx.get(f"{service.base_url}/health").json()
    assert health["success"] and health["data"]["status"] == "ok"
    assert health["data"]["scheduler"] == "running" and health["data"]["demo"] is False

    no_key = httpx.get(f"{service.base_url}/api/books")
    assert no_key.status_code == 401 and no_key.json()["success"] is False

    ran = service.cli("jobs", "run", "retention_cleanup")
    assert ran.returncode == 0, ran.stderr
    assert "retention_cleanup: success" in ran.stdout
    headers = {"X-Api-Key": "e2e-key-abcdefghijkl"}
    runs = httpx.get(f"{service.base_url}/api/scheduler/runs",
                     params={"job": "retention_cleanup"}, headers=headers).json()["data"]
    assert runs["total"] == 1 and runs["items"][0]["trigger"] == "manual"

    unknown = service.cli("jobs", "run", "no_such_job")
    assert unknown.returncode != 0 and "unknown job 'no_such_job'" in unknown.stderr

    check = service.cli("config", "check")
    assert "QB_PASSWORD" in check.stdout and "********" in check.stdout
    status = httpx.get(f"{service.base_url}/api/system/status", headers=headers).json()
    service.stop()

    log = service.log()
    assert "MAM_USERNAME/MAM_PASSWORD are set but not used" in log
    outputs = log + ran.stdout + ran.stderr + check.stdout + check.stderr + str(status)
    for secret in SECRETS:
        assert secret not in outputs, f"secret leaked: {secret[:6]}..."
    assert (service.workdir / ".env").read_bytes() == env_before


def test_without_a_key_one_is_generated_outside_env(service_factory):
    service = service_factory("QB_PORT=8090\n")
    env_before = (service.workdir / ".env").read_bytes()
    service.start("--host", "127.0.0.1")
    key_file = service.workdir / "data" / "api_key"
    assert key_file.is_file() and oct(key_file.stat().st_mode & 0o777) == "0o600"
    key = key_file.read_text().strip()
    assert str(key_file.name) in service.log() and key not in service.log()
    answer = httpx.get(f"{service.base_url}/api/system/status",
                       headers={"Authorization": f"Bearer {key}"}).json()
    assert answer["data"]["demo"] is True and answer["data"]["database"].endswith("demo.db")
    assert "DEMO MODE" in service.log()
    service.stop()
    assert (service.workdir / ".env").read_bytes() == env_before


def test_a_bad_setting_stops_start_up_with_the_fix(service_factory):
    service = service_factory("QB_PORT=eighty\n")
    result = service.cli("serve")
    assert result.returncode == 2
    assert "QB_PORT='eighty'" in result.stderr and "Fix: set QB_PORT" in result.stderr


def test_demo_account_check_from_the_cli_is_visible_in_the_api(service_factory):
    service = service_factory("API_KEY=demo-key-abcdefghijkl\n")
    ran = service.cli("jobs", "run", "account_check")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "account_check: success" in ran.stdout and "VIP keeper" in ran.stdout
    service.start()
    headers = {"X-Api-Key": "demo-key-abcdefghijkl"}

    def get(path):
        return httpx.get(f"{service.base_url}{path}", headers=headers).json()["data"]

    assert get("/api/system/vip/status")["last_decision"]
    assert get("/api/system/mam-rules")["version"] == 1
    runs = get("/api/scheduler/runs?job=account_check")
    assert runs["items"][0]["outcome"] == "success"
    assert "simulator" in service.log().lower() or "DEMO MODE" in service.log()


def test_want_adds_and_merges_from_the_cli(service_factory):
    service = service_factory("API_KEY=want-key-abcdefghijkl\n")
    first = service.cli("want", "The Way of Kings", "--author", "Brandon Sanderson")
    again = service.cli("want", "the way of kings (Unabridged)", "--author",
                        "Brandon Sanderson", "--narrator", "Michael Kramer")
    assert first.returncode == 0 and "added wanted #1" in first.stdout
    assert again.returncode == 0 and "merged into wanted #1" in again.stdout
    bad = service.cli("want", "   ")
    assert bad.returncode == 2 and "invalid book" in bad.stderr
