"""The Streamlit server with a writer of its own: `python -m tests.e2e.writing_server
ACK_FILE TAG run dashboard/app.py ...` (what `start_server(launcher=...)` runs).

Before handing over to Streamlit's CLI in the same process, it starts a thread that saves
actions without pause through `dashboard.data.record_action` — what the At-risk page calls
in this process, on the same shared store engine — to customers `WRITER_CUSTOMERS`, each with
a unique note ``TAG-<n>``. After each save returns (committed) it appends ``<row id> <note>``
to ACK_FILE with one unbuffered write: the line is in the kernel once written, so it
outlives a SIGKILL of this process; a line in the file is an acknowledged save.
Used by tests/e2e/test_kill_server_mid_write.py.
"""

from __future__ import annotations

import os
import sys
import threading
import time

WRITER_CUSTOMERS = (700_001, 700_002, 700_003, 700_004, 700_005)
STATUSES = ("attempted", "reached", "offer_made", "not_now")
PAUSE_S = 0.005  # a breath between saves, so the pages still render on a busy machine


def write_forever(ack_file: str, tag: str) -> None:
    from dashboard import data

    fd = os.open(ack_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    seq = 0
    while True:
        note = f"{tag}-{seq}"
        try:
            row_id = data.record_action(WRITER_CUSTOMERS[seq % len(WRITER_CUSTOMERS)], by="server writer",
                                        status=STATUSES[seq % len(STATUSES)], note=note)
        except Exception as err:  # not acknowledged; say why in the server's log and go on
            print(f"writer: {note} failed: {err}", file=sys.stderr, flush=True)
        else:
            os.write(fd, f"{row_id} {note}\n".encode())
        seq += 1
        time.sleep(PAUSE_S)


def main() -> None:
    ack_file, tag, *streamlit_args = sys.argv[1:]
    threading.Thread(target=write_forever, args=(ack_file, tag), daemon=True, name="writer").start()
    from streamlit.web.cli import main as streamlit_main

    sys.argv = ["streamlit", *streamlit_args]
    streamlit_main()


if __name__ == "__main__":
    main()
