#!/usr/bin/env bash
# One command from a fresh Linux machine to a working workbench.
#
#   scripts/setup.sh demo   set up, then run the main job (report under reports/)
#   scripts/setup.sh test   set up, then run the full test suite
#   scripts/setup.sh lab    set up, then open JupyterLab on notebooks/
#   scripts/setup.sh        set up only
#
# Set-up: system packages where the system allows it (FFmpeg's binary and
# shared libraries, which TorchCodec needs), a virtualenv in .venv, and the
# pinned Python packages from pyproject.toml. Re-running skips what is done.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
action="${1:-setup}"
venv="${WORKBENCH_VENV:-.venv}"

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

# --- system packages ---------------------------------------------------------
# FFmpeg for every action. The demo's report and the test suite show Chinese
# text, which renders as boxes without a CJK font. The test suite also drives
# a real browser (Debian's Chromium) and can regenerate the bundled clips
# (espeak-ng).
system_packages=(ffmpeg)
missing=()
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
if [ "$action" = demo ] || [ "$action" = test ]; then
    system_packages+=(fonts-noto-cjk)
    fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing+=(fonts-noto-cjk)
fi
if [ "$action" = test ]; then
    system_packages+=(chromium espeak-ng)
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
fi
if [ ${#missing[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo"; else sudo="none"; fi
        if [ "$sudo" = none ]; then
            log "missing system packages (${missing[*]}) and this user cannot install them."
            log "Run: sudo apt-get install -y ${system_packages[*]}   (the workbench falls back to other decoders meanwhile)"
        else
            log "installing system packages: ${missing[*]}"
            $sudo apt-get update -q
            DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
        fi
    else
        log "missing: ${missing[*]}; install them with your system's package manager (FFmpeg also comes with environment-linux.yml)."
    fi
fi

# --- Python 3.11 virtualenv --------------------------------------------------
find_python() {
    for candidate in "${PYTHON:-}" python3.11 python3 python; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}
if [ ! -x "$venv/bin/python" ]; then
    python="$(find_python)" || { log "Python 3.11 is required; install it (or set PYTHON=/path/to/python3.11)."; exit 1; }
    log "creating virtualenv $venv with $python"
    "$python" -m venv "$venv"
fi
py="$venv/bin/python"

stamp="$venv/.workbench-installed"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "installing pinned Python packages (first run downloads PyTorch: several GB)"
    "$py" -m pip install --disable-pip-version-check -q -e ".[dev]"
    echo "$want" >"$stamp"
fi

# --- the action --------------------------------------------------------------
case "$action" in
    setup) log "ready: activate with 'source $venv/bin/activate', then 'python -m workbench --help'" ;;
    demo) exec "$py" -m workbench demo ;;
    test) exec "$py" -m pytest ;;
    lab)
        # Jupyter refuses to start as root (containers, CI images) unless told it may.
        extra=()
        if [ "$(id -u)" = "0" ]; then extra+=(--allow-root); fi
        exec "$py" -m jupyter lab notebooks "${extra[@]}" ;;
    *) log "unknown action '$action' (use: demo, test, lab)"; exit 2 ;;
esac
