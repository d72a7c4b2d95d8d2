// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <glib.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"

struct loop_watch {
	int fd;
	loop_fd_cb cb;
	void *arg;
	bool dead;	/* unwatched during this round; freed after it */
};

struct loop_timer {
	int fd;
	struct loop_watch *watch;
	loop_timer_cb cb;
	void *arg;
};

struct posted {
	void (*fn)(void *arg);
	void *arg;
};

static int epoll_fd = -1;
static int post_fd = -1;
static struct loop_watch *post_watch;
static bool quit;
static GPtrArray *dead_watches;	/* freed at the end of each round */
static pthread_mutex_t post_lock = PTHREAD_MUTEX_INITIALIZER;
static GQueue post_queue = G_QUEUE_INIT;	/* struct posted *, under post_lock */

static void run_posted(int fd, uint32_t events, void *arg)
{
	uint64_t n;
	struct posted *p;

	if (read(post_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("loop: eventfd read: %s", strerror(errno));
	for (;;) {
		pthread_mutex_lock(&post_lock);
		p = g_queue_pop_head(&post_queue);
		pthread_mutex_unlock(&post_lock);
		if (!p)
			break;
		p->fn(p->arg);
		free(p);
	}
}

int loop_init(void)
{
	epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (epoll_fd < 0)
		return -errno;
	post_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (post_fd < 0)
		return -errno;
	dead_watches = g_ptr_array_new_with_free_func(g_free);
	post_watch = loop_watch_fd(post_fd, EPOLLIN, run_posted, NULL);
	return post_watch ? 0 : -errno;
}

void loop_finalise(void)
{
	if (post_watch)
		loop_unwatch(post_watch);
	if (dead_watches)
		g_ptr_array_free(dead_watches, TRUE);
	dead_watches = NULL;
	if (post_fd >= 0)
		close(post_fd);
	if (epoll_fd >= 0)
		close(epoll_fd);
	post_fd = epoll_fd = -1;
}

struct loop_watch *loop_watch_fd(int fd, uint32_t events, loop_fd_cb cb, void *arg)
{
	struct loop_watch *watch = g_new0(struct loop_watch, 1);
	struct epoll_event ev = { .events = events, .data.ptr = watch };

	watch->fd = fd;
	watch->cb = cb;
	watch->arg = arg;
	if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev)) {
		int err = errno;

		g_free(watch);
		errno = err;
		return NULL;
	}
	return watch;
}

int loop_watch_modify(struct loop_watch *watch, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = watch };

	return epoll_ctl(epoll_fd, EPOLL_CTL_MOD, watch->fd, &ev) ? -errno : 0;
}

void loop_unwatch(struct loop_watch *watch)
{
	epoll_ctl(epoll_fd, EPOLL_CTL_DEL, watch->fd, NULL);
	/* Events of this round may still point at it: free it afterwards. */
	watch->dead = true;
	g_ptr_array_add(dead_watches, watch);
}

static void timer_fired(int fd, uint32_t events, void *arg)
{
	struct loop_timer *timer = arg;
	uint64_t expirations;

	if (read(fd, &expirations, sizeof(expirations)) < 0)
		return;		/* cancelled or re-armed meanwhile */
	timer->cb(timer->arg);
}

struct loop_timer *loop_timer_new(loop_timer_cb cb, void *arg)
{
	struct loop_timer *timer = g_new0(struct loop_timer, 1);

	timer->fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (timer->fd < 0) {
		g_free(timer);
		return NULL;
	}
	timer->cb = cb;
	timer->arg = arg;
	timer->watch = loop_watch_fd(timer->fd, EPOLLIN, timer_fired, timer);
	if (!timer->watch) {
		close(timer->fd);
		g_free(timer);
		return NULL;
	}
	return timer;
}

int loop_timer_arm(struct loop_timer *timer, unsigned int delay_ms)
{
	struct itimerspec its = {
		.it_value.tv_sec = delay_ms / 1000,
		.it_value.tv_nsec = (long)(delay_ms % 1000) * 1000000 + (delay_ms ? 0 : 1),
	};

	return timerfd_settime(timer->fd, 0, &its, NULL) ? -errno : 0;
}

void loop_timer_cancel(struct loop_timer *timer)
{
	struct itimerspec its = { 0 };

	timerfd_settime(timer->fd, 0, &its, NULL);
}

void loop_timer_free(struct loop_timer *timer)
{
	if (!timer)
		return;
	loop_unwatch(timer->watch);
	close(timer->fd);
	g_free(timer);
}

void loop_post(void (*fn)(void *arg), void *arg)
{
	struct posted *p = malloc(sizeof(*p));
	uint64_t one = 1;

	if (!p)
		abort();	/* out-of-memory policy: see docs/daemon.md */
	p->fn = fn;
	p->arg = arg;
	pthread_mutex_lock(&post_lock);
	g_queue_push_tail(&post_queue, p);
	pthread_mutex_unlock(&post_lock);
	if (write(post_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		abort();
}

int loop_run(void)
{
	struct epoll_event events[32];

	quit = false;
	while (!quit) {
		int n = epoll_wait(epoll_fd, events, G_N_ELEMENTS(events), -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			struct loop_watch *watch = events[i].data.ptr;

			if (!watch->dead)
				watch->cb(watch->fd, events[i].events, watch->arg);
		}
		g_ptr_array_set_size(dead_watches, 0);
	}
	return 0;
}

void loop_quit(void)
{
	quit = true;
}
