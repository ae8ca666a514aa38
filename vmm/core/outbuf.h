/* SPDX-License-Identifier: MIT */
/*
 * A bounded output buffer in front of a file descriptor, drained by a thread
 * of its own: the VM's console output. A producer (a vCPU thread emulating
 * the UART) never waits for the descriptor: when stdout is a pipe nobody
 * reads, or a terminal stopped with Ctrl-S, a blocking write() there would
 * hold the vCPU, and with it vm_pause(), the control socket, quit and
 * migration. What does not fit is dropped and counted instead.
 *
 *   producers --outbuf_write()--> [ ring of `cap` bytes ] --writer thread--> fd
 *
 * The writer blocks in write() like any program; it is interrupted with
 * OUTBUF_KICK_SIGNAL (a no-op handler without SA_RESTART) when the buffer is
 * drained and closed, so closing never hangs either.
 */
#ifndef VMM_CORE_OUTBUF_H
#define VMM_CORE_OUTBUF_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#define OUTBUF_KICK_SIGNAL SIGUSR2

struct outbuf;

/*
 * outbuf_new - a buffer of `cap` bytes (> 0) for `fd` and its writer thread
 * (all signals blocked but OUTBUF_KICK_SIGNAL, whose no-op handler is
 * installed). The fd stays the caller's. Returns 0 and *out, or -errno.
 */
int outbuf_new(int fd, size_t cap, struct outbuf **out);

/*
 * outbuf_write - queue `len` bytes for the fd without ever waiting for it.
 * Bytes that do not fit in the free space (or arrive after the fd failed or
 * the buffer was drained) are dropped and counted. Thread-safe. Returns the
 * number of bytes queued.
 */
size_t outbuf_write(struct outbuf *ob, const void *buf, size_t len);

/* outbuf_dropped - bytes dropped so far (any thread). */
uint64_t outbuf_dropped(struct outbuf *ob);

/*
 * outbuf_drain - write out everything queued, then stop the writer thread.
 * Waits as long as the fd keeps accepting bytes; once it has accepted none
 * for `idle_ms`, or failed, the rest is dropped (and counted). Later writes
 * are dropped. Returns 0 when everything reached the fd, -ETIMEDOUT when it
 * stalled, or the fd's write error (-EPIPE, ...). Idempotent: a second call
 * returns the first result at once.
 */
int outbuf_drain(struct outbuf *ob, int idle_ms);

/* outbuf_free - outbuf_drain(ob, idle_ms), then free it. NULL is fine. */
void outbuf_free(struct outbuf *ob, int idle_ms);

#endif /* VMM_CORE_OUTBUF_H */
