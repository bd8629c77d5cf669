"""The ``opticore`` command line as a newcomer meets it, run as a separate process: each benchmark's
own usage line, ``opticore bench`` alone, unknown options named, and what the boxes benchmark says
when torchvision is missing."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from opticore.cli import BENCHMARKS, MODULE_COMMANDS

CLI = [sys.executable, "-m", "opticore"]


def run(*args: str, code: str = "") -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", code, *args] if code else [*CLI, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("name", list(BENCHMARKS))
def test_bench_help_shows_its_own_program_name(name):
    result = run("bench", name, "--help")
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith(f"usage: opticore bench {name} [-h]")
    assert "--quick" in result.stdout


@pytest.mark.parametrize("command", list(MODULE_COMMANDS))
def test_bench_train_eval_alone_list_their_names_as_bad_usage(command):
    table, kind = MODULE_COMMANDS[command]
    result = run(command)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"usage: opticore {command}")
    assert f"opticore {command}: error: which of the {kind}?" in result.stderr
    for name, (_, about) in table.items():
        assert f"  {name}  " in result.stderr and about in result.stderr
    # asked for, the same list goes to stdout with exit code 0
    helped = run(command, "--help")
    assert helped.returncode == 0 and helped.stderr == ""
    assert all(about in helped.stdout for _, about in table.values())


@pytest.mark.parametrize("args, prog", [
    (["bench", "boxes", "--quick", "--nonsense"], "opticore bench boxes"),
    (["bench", "geometry", "--nonsense"], "opticore bench geometry"),
    (["bench", "tracking", "--nonsense", "3"], "opticore bench tracking"),
    (["bench", "roi", "--nonsense"], "opticore bench roi"),
    (["bench", "--nonsense"], "opticore bench"),
    (["demo", "--nonsense"], "opticore demo"),
    (["info", "--nonsense"], "opticore info"),
    (["--nonsense"], "opticore"),
])
def test_unknown_option_is_named_with_its_commands_usage(args, prog):
    result = run(*args)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"usage: {prog} ")
    assert f"{prog}: error: unrecognized arguments: --nonsense" in result.stderr


def test_unknown_benchmark_lists_the_choices():
    result = run("bench", "nonsense")
    assert result.returncode == 2 and result.stdout == ""
    assert "invalid choice: 'nonsense'" in result.stderr and all(n in result.stderr for n in BENCHMARKS)


def test_bench_boxes_without_torchvision_says_so_and_how_to_get_it():
    # None in sys.modules makes `import torchvision` fail as it does where it is not installed.
    code = ("import sys; sys.modules['torchvision'] = None; from opticore.cli import main; "
            "sys.exit(main(sys.argv[1:]))")
    result = run("bench", "boxes", "--quick", "--repeats", "1", code=code)
    assert result.returncode == 0, result.stderr
    assert "torchvision not installed" in result.stderr
    assert "pip install torch==2.14.1 torchvision==0.29.1" in result.stderr
    assert "separate virtual environment" in result.stderr
    header = result.stdout.splitlines()[0]
    assert "torchvision not installed" in header and "torch not installed" not in header
    assert "nms uniform" in result.stdout


def test_bench_roi_runs_and_times_every_case(tmp_path):
    code = ("import sys; sys.modules['torchvision'] = None; from opticore.cli import main; "
            "sys.exit(main(sys.argv[1:]))")
    out = tmp_path / "roi.json"
    result = run("bench", "roi", "--quick", "--repeats", "1", "--json", str(out), code=code)
    assert result.returncode == 0, result.stderr
    assert "torchvision not installed" in result.stderr
    report = json.loads(out.read_text())
    names = [case["case"] for case in report["cases"]]
    assert names == ["roi_align forward 7x7", "roi_align backward 7x7", "roi_align forward 14x14",
                     "roi_align backward 14x14", "roi_pool forward 7x7", "roi_pool backward 7x7"]
    assert all(case["ms"]["opticore"] > 0 and case["ms"]["torchvision"] is None for case in report["cases"])
    assert all(name in result.stdout for name in names)
