#!/bin/bash
# install.sh BUILD_DIR SOURCE_DIR - installs into a scratch prefix, builds
# examples/count_to.c the way a user does (cc -shared -fPIC with
# pkg-config --cflags pdask) and runs it with the installed pdask-mpi.
set -euo pipefail
BUILD=$1 SRC=$2
P=$(mktemp -d /tmp/pdask-install.XXXXXX)
trap 'rm -rf "$P"' EXIT
cmake --install "$BUILD" --prefix "$P" >/dev/null
PC=$(find "$P" -name pdask.pc -printf '%h\n' | head -n 1)
cflags=$(PKG_CONFIG_PATH=$PC pkg-config --cflags pdask)
echo "pkg-config --cflags pdask: $cflags"
cc -shared -fPIC -o "$P/count_to.so" "$SRC/examples/count_to.c" $cflags
cc -shared -fPIC -Wall -Wextra -Wpedantic -Werror -std=c17 -D_DEFAULT_SOURCE \
   -o "$P/count_to_strict.so" "$SRC/examples/count_to.c" $cflags
"$P/bin/pdask-mpi" check "$P/count_to.so"
${MPIEXEC:-mpirun} -n 3 "$P/bin/pdask-mpi" "$P/count_to.so" highest_number=3
test -f "$P/share/pdask/ini/pdask.ini"
test -x "$P/share/pdask/jobscripts/pdask-mpi.sbatch"
echo "install ok"
