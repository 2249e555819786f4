/* An ioctl request the VPs' seccomp filter sends to cellsd: the bits of REQUEST under MASK
 * (of the low 32 bits: bionic sign-extends a request) must match. evdev's variable-length
 * requests (EVIOCGMTSLOTS(len)) leave their size bits out of the mask. */
#ifndef CELLS_IOCTL_TRAP_H
#define CELLS_IOCTL_TRAP_H

#include <stdbool.h>
#include <stdint.h>

struct ioctl_trap {
	uint32_t request, mask;
};

#define IOCTL_EXACT    0xffffffffu
#define IOCTL_ANY_SIZE 0xc000ffffu /* all but _IOC_SIZE (bits 16-29) */
#define IOCTL_TRAP(r)                                                                              \
	{                                                                                          \
		(r), IOCTL_EXACT                                                                   \
	}
#define IOCTL_TRAP_SIZED(r)                                                                        \
	{                                                                                          \
		(r), IOCTL_ANY_SIZE                                                                \
	}

static inline bool ioctl_trap_matches(const struct ioctl_trap *t, uint32_t request)
{
	return (request & t->mask) == (t->request & t->mask);
}

#endif
