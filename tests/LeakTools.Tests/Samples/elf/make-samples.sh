#!/bin/sh
# Rebuilds the committed ELF fixtures for the symbolization tests. Run once, by hand, when a fixture changes;
# the tests use the committed binaries so that their symbol addresses stay fixed.
set -eu
cd "$(dirname "$0")"
# Debug info names sources under a fixed directory, not wherever the script ran.
PREFIX_MAP="-ffile-prefix-map=$PWD=/leaktools/samples"
CFLAGS="-O1 -g -fno-omit-frame-pointer -Wl,--build-id=sha1 $PREFIX_MAP"

gcc $CFLAGS -fPIE -pie sample.c -o sample-pie
gcc $CFLAGS -fno-pie -no-pie sample.c -o sample-nopie

# Stripped binary with its debug info split off: found by build-id or by .gnu_debuglink.
gcc $CFLAGS -fPIE -pie sample.c -o sample-stripped
objcopy --only-keep-debug sample-stripped sample-stripped.debug
strip --strip-all sample-stripped
objcopy --add-gnu-debuglink=sample-stripped.debug sample-stripped

g++ $PREFIX_MAP -O1 -g0 -fno-omit-frame-pointer -fPIE -pie -Wl,--build-id=sha1 sample.cpp -o sample-cpp
gcc $PREFIX_MAP -O1 -g0 -fPIC -shared -Wl,--build-id=sha1 libsample.c -o libsample.so

# Malformed inputs: each must give a clear InvalidDataException, never a crash.
: > empty.elf
python3 -c "import random; random.seed(42); open('garbage.bin','wb').write(bytes(random.getrandbits(8) for _ in range(4096)))"
head -c 40 sample-pie > truncated-header.elf
head -c 300 sample-pie > truncated-program-headers.elf
size=$(stat -c %s sample-pie)
head -c $((size - 200)) sample-pie > truncated-sections.elf
# An ELF header whose class byte says 32-bit.
python3 -c "d=bytearray(open('sample-pie','rb').read(64)); d[4]=1; open('elf32-header.elf','wb').write(bytes(d))"
# A DWARF 4 line program (file names inline in its header, not in .debug_line_str), for the mutation tests.
gcc $CFLAGS -gdwarf-4 -fPIE -pie sample.c -o sample-dwarf4.tmp
objcopy --dump-section .debug_line=sample-dwarf4.debug_line sample-dwarf4.tmp
rm sample-dwarf4.tmp
# Tail calls (-O2 turns "return f(...)" into a jump), called directly, through the PLT, through the GOT and indirectly.
gcc $PREFIX_MAP -O2 -g0 -fno-omit-frame-pointer -fPIC -shared -Wl,--build-id=sha1 libtailcall.c -o libtailcall.so
