#!/usr/bin/python3
"""The package check: every file the build and the tests used must come from a Debian package
that tools/packages.txt lists, or that one of those pulls in (Depends and Pre-Depends,
recursively), or from the base system (Essential or Priority: required, which every Debian
machine has). A file no package owns fails too, except under the cache that tools/setup.sh fills
itself (/var/cache/opsync).

Why: a machine that has something installed by hand builds and passes although a fresh one would
not (the arm-none-eabi libstdc++_nano.a came from such a hand install once). This check asks dpkg
instead of trusting the machine.

What counts as used, all read from the build folder after the build:
  - every header and source the compilers read: `ninja -t deps` of each Ninja build under the
    build folder (the host build, the STM32F405 sub-build, the clang fuzz sub-build);
  - every file the linkers read: the `--dependency-file` that each link writes into a
    `linkdeps/` folder (cmake/LinkDependencies.cmake), for the host and the arm-none-eabi builds;
  - every program the builds run and every system file their commands name (`ninja -t commands`:
    compilers, archivers, protoc, the nanopb generator, arm-none-eabi-objcopy/size/nm, ...);
  - the programs the tests run, as CMake found them (the OPSYNC_* FILEPATH entries of each
    CMakeCache.txt: qemu-system-arm, clang, h5dump, python3); one that CMake did not find fails,
    since the tests that need it would skip;
  - the python modules the tests' python scripts (tests/**/*.py) import, as Debian's python3
    loads them.

Usage: check_packages.py --build-dir B [--source-dir S] [--packages tools/packages.txt]
                         [--without PKG ...] [--verbose]
--without drops packages from the list before checking (the suite uses it to show that the check
fails when a needed package is missing). Exit 0 when all is covered, 1 when not (each file with
the package to add), 2 on a usage error.
"""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys

# Where tools/setup.sh unpacks the nanopb runtime sources from Debian's source package.
SETUP_CACHE = "/var/cache/opsync/"


def read_package_list(path):
    packages = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                packages.append(line)
    return packages


def run(cmd, cwd=None):
    return subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True).stdout


# ---- what the build and the tests used ----

def ninja_deps(build_dir):
    """Files recorded by the compilers' dependency files, per Ninja build under build_dir."""
    files = set()
    for deps_log in glob.glob(os.path.join(build_dir, "**", ".ninja_deps"), recursive=True):
        ninja_dir = os.path.dirname(deps_log)
        out = run(["ninja", "-C", ninja_dir, "-t", "deps"])
        for line in out.splitlines():
            if line.startswith("    "):
                path = line.strip()
                if not os.path.isabs(path):
                    path = os.path.join(ninja_dir, path)
                files.add(os.path.normpath(path))
    return files


def parse_depfile(text):
    """Prerequisites of a make-style dependency file (backslash continuations, escaped spaces)."""
    text = text.replace("\\\n", " ")
    files = []
    for line in text.splitlines():
        if ":" not in line:
            continue
        # The target ends at the first ': ' (paths here never hold one).
        rest = line.split(": ", 1)[1] if ": " in line else line.split(":", 1)[1]
        for token in re.split(r"(?<!\\)\s+", rest.strip()):
            if token:
                files.append(token.replace("\\ ", " "))
    return files


def link_deps(build_dir):
    files = set()
    for depfile in glob.glob(os.path.join(build_dir, "**", "linkdeps", "*.d"), recursive=True):
        with open(depfile, encoding="utf-8", errors="replace") as f:
            for path in parse_depfile(f.read()):
                if not os.path.isabs(path):
                    path = os.path.join(os.path.dirname(depfile), "..", path)
                files.add(os.path.normpath(path))
    return files


# Absolute paths of system files in a command line: the program, and every tool, library or
# script it is given (e.g. -DNM=/usr/bin/arm-none-eabi-nm, /usr/lib/x86_64-linux-gnu/libfoo.so).
SYSTEM_PATH = re.compile(r"(?<![\w.])/(?:usr|bin|sbin|lib|lib64|etc|opt|var)/[^\s'\"=;:,]+")


def ninja_commands(build_dir):
    """Programs and files named in every command that each Ninja build under build_dir runs
    (compilers, archivers, protoc, the nanopb generator, objcopy, ...)."""
    files = set()
    for ninja_file in glob.glob(os.path.join(build_dir, "**", "build.ninja"), recursive=True):
        ninja_dir = os.path.dirname(ninja_file)
        out = run(["ninja", "-C", ninja_dir, "-t", "commands"])
        for line in out.splitlines():
            for path in SYSTEM_PATH.findall(line):
                if os.path.isfile(path):
                    files.add(os.path.normpath(path))
            # Programs named without a path (rare in CMake's rules) are found as the shell would.
            for segment in re.split(r"&&|\|\||;", line):
                words = segment.split()
                if words and not words[0].startswith("/") and words[0] not in (":", "cd", "true"):
                    found = shutil.which(words[0])
                    if found:
                        files.add(found)
    return files


def cmake_cache_tools(build_dir):
    """(files, not_found): the programs the tests run, as CMake found them: the OPSYNC_* FILEPATH
    entries of every CMakeCache.txt under build_dir (qemu-system-arm, clang, h5dump, python3).
    Other entries are not used as such: CMake records whatever it came across (llvm-ar when
    llvm happens to be installed), so the programs the build runs are taken from its commands."""
    files, not_found = set(), []
    for cache in glob.glob(os.path.join(build_dir, "**", "CMakeCache.txt"), recursive=True):
        with open(cache, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = re.match(r"^(OPSYNC_[A-Za-z0-9_]+):FILEPATH=(.*)$", line.rstrip("\n"))
                if not m:
                    continue
                name, value = m.groups()
                if value.endswith("-NOTFOUND") or value == "":
                    not_found.append((cache, name))
                    continue
                if os.path.isabs(value) and os.path.exists(value):
                    files.add(value)
    return files, not_found


def python_modules(source_dir, python):
    """Files of the modules that the tests' python scripts import (and everything those pull in)."""
    modules = set()
    for script in glob.glob(os.path.join(source_dir, "tests", "**", "*.py"), recursive=True):
        with open(script, encoding="utf-8") as f:
            for line in f:
                m = re.match(r"^\s*(?:import|from)\s+([A-Za-z_][A-Za-z0-9_]*)", line)
                if m:
                    modules.update(part.strip().split(".")[0] for part in
                                   (line.split("import", 1)[1].split(",") if line.lstrip().startswith("import")
                                    else [m.group(1)]))
    modules = sorted(m for m in modules if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", m))
    files = {os.path.realpath(python)}
    if not modules:
        return files, []
    # Only what the imports load: modules already there at start-up come from the interpreter
    # itself or from .pth hooks of whatever else is installed, which a fresh machine may lack.
    probe = ("import sys\n"
             "before = set(sys.modules)\n"
             "for name in sys.argv[1:]:\n"
             "    try:\n"
             "        __import__(name)\n"
             "    except ImportError:\n"
             "        print('MISSING', name)\n"
             "for key, m in list(sys.modules.items()):\n"
             "    if key in before: continue\n"
             "    f = getattr(m, '__file__', None)\n"
             "    if f: print('FILE', f)\n")
    out = subprocess.run([python, "-c", probe] + modules, capture_output=True, text=True).stdout
    missing = []
    for line in out.splitlines():
        kind, _, value = line.partition(" ")
        if kind == "FILE":
            files.add(value)
        elif kind == "MISSING":
            missing.append(value)
    return files, missing


# ---- who owns what ----

def dpkg_owners():
    """path -> package, from dpkg's file lists (the same data `dpkg -S` reads), and diversions."""
    owners = {}
    info = "/var/lib/dpkg/info"
    for listing in glob.glob(os.path.join(info, "*.list")):
        package = os.path.basename(listing)[:-len(".list")].split(":")[0]
        with open(listing, encoding="utf-8", errors="replace") as f:
            for line in f:
                owners.setdefault(line.rstrip("\n"), package)
    return owners


def candidates(path):
    """The names dpkg may know a file by: as given (an alternatives link is owned under its own
    name), fully resolved, and each across the merged-/usr links (/lib is /usr/lib)."""
    seen = []
    for p in (os.path.normpath(path), os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path)),
              os.path.realpath(path)):
        for q in (p, p[4:] if p.startswith("/usr/") else "/usr" + p):
            if q not in seen:
                seen.append(q)
    return seen


def owner_of(path, owners):
    for c in candidates(path):
        if c in owners:
            return owners[c]
    return None


def installed_packages():
    """name -> {depends: [[alternatives]], provides: [...], base: bool}."""
    fmt = "${Package}\\t${Status}\\t${Essential}\\t${Priority}\\t${Provides}\\t${Depends}\\t${Pre-Depends}\\n"
    out = run(["dpkg-query", "-W", "-f", fmt])
    pkgs = {}
    for line in out.splitlines():
        fields = line.split("\t")
        if len(fields) < 7 or not fields[1].endswith(" installed"):
            continue
        name, _, essential, priority, provides, depends, predepends = fields[:7]
        deps = []
        for group in filter(None, (s.strip() for s in (depends + "," + predepends).split(","))):
            deps.append([re.split(r"[\s(:]", alt.strip())[0] for alt in group.split("|") if alt.strip()])
        entry = pkgs.setdefault(name, {"depends": [], "provides": [], "base": False})
        entry["depends"] += deps
        entry["provides"] += [re.split(r"[\s(:]", p.strip())[0] for p in provides.split(",") if p.strip()]
        entry["base"] |= essential == "yes" or priority == "required"
    return pkgs


def closure(roots, pkgs):
    """The packages that `roots` pull in on a fresh machine: for `a | b` apt takes `a` when it can,
    so only the first alternative counts, unless it is a virtual package (then its providers)."""
    providers = {}
    for name, p in pkgs.items():
        for v in p["provides"]:
            providers.setdefault(v, []).append(name)
    pulled, stack = set(), list(roots)
    while stack:
        name = stack.pop()
        if name in pulled:
            continue
        pulled.add(name)
        for group in pkgs.get(name, {}).get("depends", []):
            first = group[0]
            if first in pkgs:
                stack.append(first)
            else:
                stack.extend(providers.get(first, []))
    return pulled


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--build-dir", required=True, help="the build folder, after the build")
    ap.add_argument("--source-dir", default=os.path.dirname(here), help="the checkout (default: this script's)")
    ap.add_argument("--packages", default=os.path.join(here, "packages.txt"), help="the package list")
    ap.add_argument("--without", action="append", default=[], metavar="PKG",
                    help="check as if PKG were not in the list (to test the check)")
    ap.add_argument("--python", default="/usr/bin/python3", help="the interpreter the tests run")
    ap.add_argument("--verbose", action="store_true", help="list what was checked, by package")
    args = ap.parse_args()

    build_dir = os.path.abspath(args.build_dir)
    source_dir = os.path.abspath(args.source_dir)
    if not os.path.exists(os.path.join(build_dir, "CMakeCache.txt")):
        print(f"error: {build_dir} is not a configured build folder (no CMakeCache.txt)", file=sys.stderr)
        return 2
    listed = read_package_list(args.packages)
    for p in args.without:
        if p not in listed:
            print(f"error: --without {p}: not in {args.packages}", file=sys.stderr)
            return 2
    listed = [p for p in listed if p not in args.without]

    used = {}  # path -> why it counts
    for path in ninja_deps(build_dir):
        used.setdefault(path, "read by a compiler")
    for path in link_deps(build_dir):
        used.setdefault(path, "read by a linker")
    for path in ninja_commands(build_dir):
        used.setdefault(path, "run or named by a build command")
    tools, not_found = cmake_cache_tools(build_dir)
    for path in tools:
        used.setdefault(path, "run by the tests (found by CMake)")
    py_files, py_missing = python_modules(source_dir, args.python)
    for path in py_files:
        used.setdefault(path, "python module a test imports")

    owners = dpkg_owners()
    pkgs = installed_packages()
    base = {n for n, p in pkgs.items() if p["base"]}
    allowed = closure(listed, pkgs) | closure(base, pkgs)

    problems = []
    for cache, name in not_found:
        problems.append(f"{name} was not found when {os.path.dirname(cache)} was configured: the tests that "
                        f"need it are skipped; install the package that provides it and add it to {args.packages}")
    for module in py_missing:
        problems.append(f"python module '{module}' (imported by a test script) is not importable by "
                        f"{args.python}: add its Debian package (python3-{module.lower()}) to {args.packages}")
    by_package = {}
    unowned = []
    for path in sorted(used):
        if path.startswith(source_dir + os.sep) or path.startswith(build_dir + os.sep):
            continue
        if not os.path.exists(path):
            continue  # a file since removed (e.g. a stale dependency entry)
        if path.startswith(SETUP_CACHE):
            continue
        pkg = owner_of(path, owners)
        if pkg is None:
            if not os.path.isdir(path):
                unowned.append(path)
            continue
        by_package.setdefault(pkg, []).append(path)
    for pkg in sorted(by_package):
        if pkg in allowed:
            continue
        files = by_package[pkg]
        example = files[0]
        more = f" (and {len(files) - 1} more files)" if len(files) > 1 else ""
        problems.append(f"{example}{more}, {used[example]}, belongs to the package '{pkg}', which {args.packages} "
                        f"neither lists nor pulls in: add '{pkg}' to it")
    for path in unowned:
        problems.append(f"{path}, {used[path]}, belongs to no Debian package: a fresh machine will not have it "
                        f"(install it from a package listed in {args.packages}, or build it in the tree)")

    if args.verbose:
        for pkg in sorted(by_package):
            print(f"{pkg}: {len(by_package[pkg])} files" + ("" if pkg in allowed else "  <- NOT COVERED"))
    print(f"package check: {len(used)} files used, from {len(by_package)} packages; {len(listed)} listed "
          f"packages pull in {len(allowed)} (base system included)")
    if problems:
        for p in problems:
            print("error: " + p)
        return 1
    print("package check: every file used comes from a listed package or what it pulls in")
    return 0


if __name__ == "__main__":
    sys.exit(main())
