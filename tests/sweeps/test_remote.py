import threading

import pytest

from radsweep.errors import SweepError
from radsweep.sweeps.remote import agent_commands, bounded, require_server


def test_bounded_returns_the_result() -> None:
    assert bounded(lambda: 42, 5.0, "answering") == 42


@pytest.mark.timeout(120)  # the hang guard: without the watchdog this test would never return
def test_bounded_gives_up_on_a_hanging_call_in_time() -> None:
    release = threading.Event()
    returned = threading.Event()

    def hang() -> None:
        release.wait()  # until the test lets go: only the watchdog can end bounded() first
        returned.set()

    with pytest.raises(SweepError, match=r"did not answer within 0\.2 s while waiting") as raised:
        bounded(hang, 0.2, "waiting", "sweeps/demo.yaml")
    assert not returned.is_set()  # bounded() gave up while the call still hung
    release.set()
    assert returned.wait(60)
    assert "radsweep sweep local sweeps/demo.yaml" in raised.value.one_line()


def test_bounded_reports_the_clients_error_on_one_line() -> None:
    def refuse() -> None:
        raise ConnectionError("refused\n  twice")

    with pytest.raises(SweepError, match="failed while calling: refused twice"):
        bounded(refuse, 5.0, "calling")


@pytest.mark.parametrize("mode", ["offline", "disabled", "DRYRUN"])
def test_an_offline_mode_needs_no_network_to_say_no(
    monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.setenv("WANDB_MODE", mode)
    with pytest.raises(SweepError, match=f"WANDB_MODE={mode.lower()} keeps W&B offline"):
        require_server("registering a sweep", "sweeps/fig2-age.yaml")


def test_agent_commands_name_the_full_sweep_path() -> None:
    sweep = "me/radsweep/abc123"
    plain, docker, stock = agent_commands(sweep)
    assert plain == "radsweep sweep agent me/radsweep/abc123"
    assert docker == "docker compose -f docker/compose.yaml run --rm agent sweep agent " + sweep
    assert stock == "wandb agent --forward-signals --term-timeout 60 me/radsweep/abc123"
