/* SPDX-License-Identifier: MIT */
/*
 * The controlling terminal: raw mode while a VM owns the console, restored
 * on every way out (normal exit, exit(), fatal signals).
 */
#ifndef VMM_CORE_TERM_H
#define VMM_CORE_TERM_H

/*
 * term_raw_enter - if fd is a terminal, save its settings and switch it to
 * raw input (no echo, no line editing, no signals from ^C: bytes go to the
 * guest) while keeping output post-processing (\n -> \r\n). Registers the
 * restore with atexit() and for fatal signals that have no handler yet (a
 * handler installed before, such as the memory-error SIGBUS handler, is
 * kept and must call term_restore() before it dies). Returns 1 if raw mode is on,
 * 0 if fd is not a terminal, -errno on failure.
 */
int term_raw_enter(int fd);

/* term_restore - put the saved settings back (async-signal-safe; idempotent). */
void term_restore(void);

/* term_is_raw - whether raw mode is on. */
int term_is_raw(void);

#endif
