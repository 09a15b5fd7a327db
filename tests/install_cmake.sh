#!/bin/bash
# install_cmake.sh BUILD_DIR - installs into a scratch prefix, moves it (the
# package must be relocatable), then builds a flow project that has only
# find_package(pdask REQUIRED) and pdask_add_flow(count_to count_to.c),
# and runs its test: the installed count_to example on the installed
# pdask-mpi (pdask::pdask-mpi) under mpirun on 3 ranks.
set -euo pipefail
BUILD=$1
T=$(mktemp -d /tmp/pdask-install-cmake.XXXXXX)
trap 'rm -rf "$T"' EXIT
cmake --install "$BUILD" --prefix "$T/staged" >/dev/null
mv "$T/staged" "$T/prefix"
P=$T/prefix

mkdir "$T/proj"
cp "$P/share/pdask/examples/count_to.c" "$T/proj/"
cat >"$T/proj/CMakeLists.txt" <<'END'
cmake_minimum_required(VERSION 3.20)
project(myflows LANGUAGES C)
find_package(pdask 0.1 REQUIRED)
pdask_add_flow(count_to count_to.c)
message(STATUS "pdask ${pdask_VERSION}: ${PDASK_MPI_EXECUTABLE}")
enable_testing()
add_test(NAME count_to
         COMMAND ${MPIEXEC} -n 3 $<TARGET_FILE:pdask::pdask-mpi>
                 $<TARGET_FILE:count_to> highest_number=3)
END
cmake -S "$T/proj" -B "$T/proj/build" -DCMAKE_PREFIX_PATH="$P" \
      -DMPIEXEC="${MPIEXEC:-mpirun}" -DCMAKE_C_FLAGS="-Wall -Wextra -Werror" \
      >"$T/configure.log"
# The runner is found where the prefix was moved to.
grep -E -- "-- pdask [0-9.]+: $P/bin/pdask-mpi$" "$T/configure.log"
cmake --build "$T/proj/build"
"$P/bin/pdask-mpi" check "$T/proj/build/count_to.so"
ctest --test-dir "$T/proj/build" -V >"$T/ctest.log" 2>&1 ||
    { cat "$T/ctest.log"; exit 1; }
grep -E "Finished in state Completed: 3 of 3" "$T/ctest.log"
echo "install cmake ok"
