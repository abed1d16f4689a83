"""The child process of `sheet_guard.read_isolated`: caps its own address space first, then
inspects the file in depth and parses it. Reads one JSON request on stdin, writes one JSON
answer on stdout: {"names", "name", "rows"} or {"refused": {...}}. Exit code 3 is MemoryError;
a native allocation failure aborts the process (SIGABRT), which the parent reports the same way."""
from __future__ import annotations

import json
import resource
import sys


def main() -> int:
    request = json.loads(sys.stdin.buffer.read())
    limit = int(request["memory_mb"]) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # an abort leaves no core file behind

    from adapters import sheet_guard, spreadsheet

    try:
        sheet_guard.deep_inspect(request["path"], limits=sheet_guard.Limits(**request["limits"]))
        sheet = spreadsheet.read(request["path"], filename=request["filename"], sheet=request["sheet"],
                                 max_rows=request["max_rows"])
        answer = {"names": sheet.names, "name": sheet.name, "rows": sheet.rows}
        data = json.dumps(answer, ensure_ascii=False, default=sheet_guard.json_default).encode()
    except spreadsheet.SheetRefused as exc:
        data = json.dumps({"refused": sheet_guard.refusal_payload(exc)}, ensure_ascii=False, default=str).encode()
    except MemoryError:
        return 3
    sys.stdout.buffer.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
