# gdb script (python): the oracle of the unwinding tests. Stops nowhere; at each malloc of a size listed in
# $LEAKTOOLS_GDB_SIZES not seen yet, prints the stack gdb unwinds, one physical frame per entry, from malloc's
# caller outwards, as "STACK size module+0xfileoffset ...". Left out: inlined frames (part of the frame that holds
# them) and the tail-call frames gdb infers from DWARF call-site information (no return address on the stack).
# Once every size was seen, gdb stops the program and the batch kills it.
import os
import gdb

pending = set(int(s) for s in os.environ["LEAKTOOLS_GDB_SIZES"].split(","))


def mappings():
    result = []
    with open("/proc/%d/maps" % gdb.selected_inferior().pid) as maps:
        for line in maps:
            fields = line.split()
            if len(fields) < 6 or not fields[5].startswith("/"):
                continue
            start, end = (int(x, 16) for x in fields[0].split("-"))
            result.append((start, end, int(fields[2], 16), os.path.basename(fields[5])))
    return result


class AllocationStop(gdb.Breakpoint):
    def stop(self):
        size = int(gdb.parse_and_eval("$rdi"))
        if size not in pending:
            return False
        pending.discard(size)
        maps = mappings()
        frames = []
        frame = gdb.newest_frame().older()
        while frame is not None:
            if frame.type() not in (gdb.INLINE_FRAME, gdb.TAILCALL_FRAME):
                pc = frame.pc()
                where = next(("%s+0x%x" % (name, pc - start + offset) for start, end, offset, name in maps if start <= pc < end), "0x%x" % pc)
                frames.append(where)
            frame = frame.older()
        print("STACK %d %s" % (size, " ".join(frames)))
        return not pending


AllocationStop("malloc", internal=True)
