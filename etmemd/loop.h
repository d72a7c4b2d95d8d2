/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The event loop: one epoll instance on the main thread that owns all
 * daemon state. File descriptors and one-shot timers (timerfd) register
 * callbacks; other threads talk to the loop only through loop_post().
 */
#ifndef ETMEMD_LOOP_H
#define ETMEMD_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct loop_watch;
typedef void (*loop_fd_cb)(int fd, uint32_t events, void *arg);

int loop_init(void);
void loop_finalise(void);

/* Watches fd; the loop never closes it. NULL on failure (errno set). */
struct loop_watch *loop_watch_fd(int fd, uint32_t events, loop_fd_cb cb, void *arg);
int loop_watch_modify(struct loop_watch *watch, uint32_t events);
/* Safe from inside any callback, including the watch's own. */
void loop_unwatch(struct loop_watch *watch);

struct loop_timer;
typedef void (*loop_timer_cb)(void *arg);
struct loop_timer *loop_timer_new(loop_timer_cb cb, void *arg);
/* One shot after delay_ms; re-arming replaces the previous deadline. */
int loop_timer_arm(struct loop_timer *timer, unsigned int delay_ms);
void loop_timer_cancel(struct loop_timer *timer);
void loop_timer_free(struct loop_timer *timer);

/* Thread-safe: run fn(arg) on the loop thread soon. */
void loop_post(void (*fn)(void *arg), void *arg);

/* Runs until loop_quit(); returns 0 or -errno. */
int loop_run(void);
void loop_quit(void);

#endif /* ETMEMD_LOOP_H */
