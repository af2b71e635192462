"""`pytest --vt-browser` on bundled scenarios a new user met failing in Chromium (issue 17).

* `scopes-broadcast` and `scopes-push` check signals no element shows, and `scopes-broadcast`
  a script's effect: a person cannot read them, so their browser items are skipped naming the
  step, as for `request` (a step that runs over HTTP only is named before the run starts).
* `core-queued-render` opens its tab with `connect = false`, acts, then `ready`: the page's
  stream requests are held at the network until `ready` lets them go (they used to be refused,
  and Datastar's retry came after the wait's deadline).
* `scopes-concurrent-updates` sends ten actions at once from each of five pages: one page's
  actions are one person's, one after another (ten overlapping gestures in one page lost
  messages: Datastar cancelled posts still in flight, and later clicks sent a draft the
  server had cleared).

And a failing browser item says its failure once, not three times (chained to its causes).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import vt

BUNDLED = {s.name: s.path for s in vt.bundled_scenarios()}
MET = ["scopes-broadcast", "scopes-push", "core-queued-render", "scopes-concurrent-updates"]

WRONG = """
[scenario]
name = "wrong"
app = "chat"
[[step]]
open = "a"
[[step]]
expect_text = "not on the page"
selector = "h1"
timeout = 0.5
"""


# Five scenarios in Chromium in an inner pytest run: minutes, not seconds, on a busy machine.
@pytest.mark.timeout(360)
def test_the_scenarios_a_new_user_met_pass_or_skip_saying_why_in_browsers(
    pytester: pytest.Pytester, vt_browser_path: Path
) -> None:
    folder = pytester.path / "scenarios"
    folder.mkdir()
    for name in MET:
        shutil.copy(BUNDLED[name], folder / f"{name}.toml")
    (folder / "wrong.toml").write_text(WRONG)
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "-rs",
        "-v",
        "-k",
        "browser",
        f"--vt-scenarios={folder}",
        "--vt-browser",
        f"--vt-browser-path={vt_browser_path}",
    )

    result.stdout.fnmatch_lines_random(
        [
            "*::core-queued-render[[]browser[]] PASSED*",
            "*::scopes-concurrent-updates[[]browser[]] PASSED*",
            "*::scopes-broadcast[[]browser[]] SKIPPED*",
            "*::scopes-push[[]browser[]] SKIPPED*",
            "*scopes-broadcast: step 8 (line *): expect_script 'toast' is not something a "
            "person does in a browser; it runs over HTTP only*",
            "*scopes-push: step * expect_signal 'pushes'*not something a person does*",
            "*::wrong[[]browser[]] FAILED*",
        ]
    )
    result.assert_outcomes(passed=2, skipped=2, failed=1)
    # The failure's reason, once: not again as the cause and the context of pytest's failure.
    said = result.stdout.str().count("did not show 'not on the page' in 'h1'")
    assert said == 1, result.stdout.str()
