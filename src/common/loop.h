/* A small epoll loop: each watched fd carries the function that handles it. */
#ifndef CELLS_LOOP_H
#define CELLS_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop_watch {
	int fd;
	void (*handle)(struct loop_watch *w, uint32_t events);
};

struct loop {
	int epfd;
	bool quit;
};

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

int loop_init(struct loop *l);
void loop_fini(struct loop *l);
int loop_add(struct loop *l, struct loop_watch *w, uint32_t events);
int loop_mod(struct loop *l, struct loop_watch *w, uint32_t events);
void loop_del(struct loop *l, struct loop_watch *w);
/* Run until L->quit is set. Returns 0 or a negative errno from epoll_wait. */
int loop_run(struct loop *l);

#endif
