"""Settings: names as the user keeps them, sources, clear errors, secrets masked."""

import pytest

from mamcrawler.config import (
    DEFAULT_SCHEDULES,
    ConfigError,
    describe_sources,
    load_settings,
    parse_schedule,
)

USER_ENV = """\
DATABASE_URL=postgresql+psycopg://mc:pw@db.example:5432/mamcrawler
API_KEY=my-api-key-123
ABS_URL=http://127.0.0.1:13378
ABS_TOKEN=abs-token-xyz
QB_HOST=127.0.0.1
QB_PORT=8090
QB_USERNAME=admin
QB_PASSWORD=qb-pass-456
PROWLARR_URL=http://127.0.0.1:9696
PROWLARR_API_KEY=prowlarr-key-789
GOOGLE_BOOKS_API_KEY=gb-key-000
MAM_USERNAME=someone
MAM_PASSWORD=mam-pass-111
"""


@pytest.fixture
def env_file(tmp_path, monkeypatch):
    for var in ("QB_PORT", "MAM_ID", "DATABASE_URL", "API_KEY", "PORT", "DEMO"):
        monkeypatch.delenv(var, raising=False)
    path = tmp_path / ".env"
    path.write_text(USER_ENV)
    return path


def test_reads_the_users_existing_env_names(env_file):
    s = load_settings(env_file)
    assert s.qb_port == 8090
    assert s.qb_password.get_secret_value() == "qb-pass-456"
    assert s.abs_url == "http://127.0.0.1:13378"
    assert s.database_url.startswith("postgresql+psycopg://")
    assert s.mam_username == "someone"


def test_env_wins_over_dotenv_and_sources_are_reported(env_file, monkeypatch):
    monkeypatch.setenv("QB_PORT", "9999")
    s = load_settings(env_file)
    assert s.qb_port == 9999
    rows = {r.name: r for r in describe_sources(s, env_file)}
    assert rows["QB_PORT"].source == "env"
    assert rows["QB_HOST"].source == ".env"
    assert rows["PORT"].source == "default"
    assert rows["QB_PASSWORD"].value == "********"
    assert rows["API_KEY"].secret and rows["API_KEY"].value == "********"
    text = repr([(r.name, r.value) for r in rows.values()])
    for secret in ("qb-pass-456", "abs-token-xyz", "my-api-key-123", "mam-pass-111"):
        assert secret not in text


def test_password_login_settings_warn_and_demo_without_mam_id(env_file):
    s = load_settings(env_file)
    warnings = " ".join(s.startup_warnings())
    assert "MAM_USERNAME/MAM_PASSWORD are set but not used" in warnings
    assert s.is_demo and "DEMO MODE" in warnings
    # Demo mode never touches the user's real database.
    assert s.effective_database_url.endswith("demo.db")


def test_live_mode_uses_the_configured_database(env_file):
    s = load_settings(env_file, mam_id="cookie-value")
    assert not s.is_demo
    assert s.effective_database_url.startswith("postgresql+psycopg://")
    assert "cookie-value" in s.secret_values()


@pytest.mark.parametrize(
    ("overrides", "variable", "words"),
    [
        ({"qb_port": "abc"}, "QB_PORT", "qBittorrent WebUI port"),
        ({"port": "70000"}, "PORT", "1-65535"),
        ({"abs_url": "localhost:13378"}, "ABS_URL", "http://"),
        ({"timezone": "Mars/Olympus"}, "TIMEZONE", "IANA time zone"),
        ({"schedule_acquisition": "sometimes"}, "SCHEDULE_ACQUISITION", "every 5m"),
        ({"schedule_account_check": "99 * * * *"}, "SCHEDULE_ACCOUNT_CHECK", "valid crontab"),
        ({"log_level": "LOUD"}, "LOG_LEVEL", "DEBUG"),
        ({"mam_min_interval_s": "0.01"}, "MAM_MIN_INTERVAL_S", "at least 0.5"),
        ({"qb_path_map": "/downloads"}, "QB_PATH_MAP", "not one remote=local pair"),
        ({"abs_path_map": "audiobooks=/srv/a"}, "ABS_PATH_MAP", "/audiobooks=/srv/audiobooks"),
    ],
)
def test_bad_values_name_the_variable_and_the_fix(overrides, variable, words):
    with pytest.raises(ConfigError) as err:
        load_settings(None, **overrides)
    message = str(err.value)
    assert f"{variable}=" in message
    assert "Fix: set " + variable in message
    assert words in message


def test_a_bad_secret_is_never_echoed():
    with pytest.raises(ConfigError) as err:
        load_settings(None, qb_password=["not", "a", "string"], qb_port="x")
    assert "not" not in str(err.value).split("QB_PASSWORD=")[1].split()[0]
    assert "QB_PASSWORD=********" in str(err.value)


@pytest.mark.parametrize("job", sorted(DEFAULT_SCHEDULES))
def test_default_schedules_parse(job):
    kind, _ = parse_schedule(DEFAULT_SCHEDULES[job])
    assert kind in ("cron", "every")


@pytest.mark.parametrize(("text", "seconds"), [("every 5m", 300), ("every 1h", 3600),
                                                ("EVERY 2d", 172800)])
def test_interval_schedules(text, seconds):
    assert parse_schedule(text) == ("every", seconds)


def test_path_maps_are_read_and_normalised():
    s = load_settings(None, qb_path_map="/downloads/=/mnt/media/downloads ; /data=/srv/data",
                      abs_path_map="/audiobooks=/srv/audiobooks")
    assert s.qb_path_map == "/downloads=/mnt/media/downloads;/data=/srv/data"
    assert s.qb_paths.to_local("/downloads/Book") == "/mnt/media/downloads/Book"
    assert s.abs_paths.to_remote("/srv/audiobooks/A/B") == "/audiobooks/A/B"
    assert not load_settings(None).qb_paths
