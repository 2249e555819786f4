/* The telephony device (DESIGN.md §5, "telephony"): one serial AT modem of the root's
 * (`cellsd --modem PATH`) shared by the VPs, each with /dev/ttyM0, a pty that speaks AT
 * to its programs with the VP's own number (docs/DEVICES.md, "telephony"). This file is
 * the device and each VP's tty; telephony_at.c answers a VP's commands, telephony_call.c
 * and telephony_sms.c route calls and messages, telephony_link.c owns the modem, and
 * telephony_number.c holds the numbers rules. Without --modem the device is off: no VP
 * gets a /dev/ttyM0. */
#include "devices/telephony.h"
#include "common/log.h"
#include "devices/sysfs_layout.h"
#include "devices/vpty.h"
#include "devns/devns.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#define DIALOUT_GID 20 /* the VP's dialout group (Debian's), mapped as its uids are */
#define READS_MAX   16 /* reads of a VP's tty per wake-up: a flood waits its turn */

static const struct vdev_option tel_options[] = {
	{"modem", "PATH",
	 "the AT modem (a tty or a pty) the VPs'\n/dev/ttyM0 share (default: "
	 "none,\nno telephony)"},
	{"forward-tag", "PREFIX",
	 "the forwarding service's tag start: a\nVP's tag is PREFIX, its id, "
	 "'*'\n(default " TEL_TAG_PREFIX_DEFAULT ")"},
	{"forward-access", "NUM",
	 "the service's access number: calls of\nVPs that do not own the "
	 "SIM go\nthrough it (default: none)"},
	{"forward-sms", "NUM", "the service's SMS gateway (default:\nthe access number)"},
	{"sim-number", "NUM", "the SIM's number (default: what the\nmodem's +CNUM says)"},
	{NULL, NULL, NULL},
};

static int tel_check_option(const char *name, const char *value, struct error *err)
{
	if (strcmp(name, "modem") == 0)
		return value[0] == '/' && strlen(value) < 256
			       ? 0
			       : error_set(err, 0, "--modem wants an absolute path, not '%s'",
					   value);
	if (strcmp(name, "forward-tag") == 0) {
		if (!value[0] || strlen(value) >= 16 ||
		    strspn(value, "*#0123456789") != strlen(value))
			return error_set(
				err, 0, "--forward-tag wants up to 15 of 0-9 * #, not '%s'", value);
		return 0;
	}
	if (!tel_number_valid(value))
		return error_set(err, 0, "--%s wants a phone number, not '%s'", name, value);
	return 0;
}

static const struct vp_setting_kind tel_settings[] = {
	{"number", "NUM", "its phone number (the SIM's, or one at the forwarding service)", ""},
	{"on-call", "switch|ask|none",
	 "a call ringing in the background: switch to the VP at once, when it is answered, or "
	 "never",
	 "ask"},
	{NULL, NULL, NULL, NULL},
};

static int tel_check_setting(const char *key, const char *value, struct error *err)
{
	if (strcmp(key, "number") == 0 && value[0] && !tel_number_valid(value))
		return error_set(err, 0, "--number wants a phone number (+ and digits), not '%s'",
				 value);
	if (strcmp(key, "on-call") == 0 && strcmp(value, "switch") != 0 &&
	    strcmp(value, "ask") != 0 && strcmp(value, "none") != 0)
		return error_set(err, 0, "--on-call wants switch, ask or none, not '%s'", value);
	return 0;
}

static enum tel_on_call on_call_of(const char *value)
{
	if (value && strcmp(value, "switch") == 0)
		return TEL_ON_CALL_SWITCH;
	if (value && strcmp(value, "none") == 0)
		return TEL_ON_CALL_NONE;
	return TEL_ON_CALL_ASK;
}

/* -- what the other parts use --------------------------------------------------------- */

struct tel_vp *tel_vp_by_id(struct tel_dev *dev, unsigned id)
{
	for (struct tel_vp *vp = dev->vps; vp; vp = vp->next)
		if (vp->id == id)
			return vp;
	return NULL;
}

bool tel_vp_owns_sim(const struct tel_dev *dev, const struct tel_vp *vp)
{
	return vp->number[0] && dev->numbers.sim[0] && strcmp(vp->number, dev->numbers.sim) == 0;
}

struct tel_vp *tel_vp_owner(struct tel_dev *dev)
{
	for (struct tel_vp *vp = dev->vps; vp; vp = vp->next)
		if (tel_vp_owns_sim(dev, vp))
			return vp;
	return NULL;
}

bool tel_vp_foreground(const struct tel_dev *dev, const struct tel_vp *vp)
{
	return strcmp(dev->foreground, vp->name) == 0;
}

void tel_event(struct tel_dev *dev, const char *event, const struct tel_vp *vp, const char *key,
	       const char *value)
{
	json_t *e = json_pack("{s:s}", "event", event);

	if (!e)
		return;
	if (vp) {
		json_object_set_new(e, "vp", json_string(vp->name));
		json_object_set_new(e, "background", json_boolean(!tel_vp_foreground(dev, vp)));
	}
	if (key && value)
		json_object_set_new(e, key, json_string(value));
	devns_emit_event(dev->core, "telephony", e);
}

/* Teardown runs with the core's lock held, which devns_announce takes: the line is
 * handed to the loop, which passes it on. */
void tel_announce(struct tel_dev *dev, const char *text)
{
	uint64_t one = 1;

	snprintf(dev->notice, sizeof(dev->notice), "%s", text);
	if (write(dev->kick.fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn_errno(errno, "telephony: kick the loop");
}

static void on_kick(struct loop_watch *w, uint32_t events)
{
	struct tel_dev *dev = container_of(w, struct tel_dev, kick);
	uint64_t n;

	(void)events;
	if (read(w->fd, &n, sizeof(n)) < 0)
		return;
	devns_announce(dev->core, "telephony", dev->notice);
}

void tel_wake_vp(struct tel_dev *dev, struct tel_vp *vp, unsigned ms)
{
	/* Synchronous: the VP's processes run again before its RING or +CMTI is written. */
	if (devns_vp_wake(dev->core, vp->name, ms) < 0)
		log_debug("telephony: wake %s: it is not running", vp->name);
}

/* -- the modem ------------------------------------------------------------------------- */

static void cnum_done(void *data, int result, int code, const char *info)
{
	struct tel_dev *dev = data;
	const char *p = info;

	(void)code;
	if (result != TEL_OK || dev->sim_given)
		return;
	/* +CNUM: [<alpha>],"<number>",<type>: the string after the first comma. */
	if ((p = strstr(p, "+CNUM:")))
		p = strchr(p, ',');
	if (p)
		p = strchr(p, '"');
	if (p && sscanf(p + 1, "%23[^\"]", dev->numbers.sim) == 1)
		log_info("telephony: the SIM's number is %s", dev->numbers.sim);
}

static void link_up(void *ctx)
{
	struct tel_dev *dev = ctx;

	tel_link_send(dev->link, "AT+CNUM", NULL, cnum_done, dev);
	tel_sms_link_up(dev);
	tel_event(dev, "modem-up", NULL, NULL, NULL);
}

static void link_down(void *ctx)
{
	struct tel_dev *dev = ctx;

	tel_call_link_down(dev);
	tel_event(dev, "modem-down", NULL, NULL, NULL);
}

static void link_urc(void *ctx, const char *line, const char *pdu)
{
	struct tel_dev *dev = ctx;

	if (tel_call_urc(dev, line) || tel_sms_urc(dev, line, pdu))
		return;
	/* +CREG and the like: each VP that asked for them. */
	for (struct tel_vp *vp = dev->vps; vp; vp = vp->next)
		if ((strncmp(line, "+CREG:", 6) == 0 && vp->at.set.creg) ||
		    (strncmp(line, "+CGREG:", 7) == 0 && vp->at.set.cgreg) ||
		    (strncmp(line, "+CEREG:", 7) == 0 && vp->at.set.cereg))
			tel_at_urc(&vp->at, line);
}

static const struct tel_link_ops link_ops = {
	.urc = link_urc,
	.up = link_up,
	.down = link_down,
};

/* -- a VP's session --------------------------------------------------------------------- */

static void vp_write(void *ctx, const char *buf, size_t len)
{
	struct tel_vp *vp = ctx;

	/* A VP that does not read loses what does not fit, as from a real modem. */
	if (vp->io.fd >= 0 && write(vp->io.fd, buf, len) < 0 && errno != EAGAIN && errno != EIO)
		log_warn_errno(errno, "telephony: %s: write to its tty", vp->name);
}

/* The modem's answer to a VP's query, as the VP's settings show it. */
static void mirror_done(void *data, int result, int code, const char *info)
{
	struct tel_vp *vp = data;
	char line[600];

	for (const char *l = info; *l;) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);
		int mode, stat;
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, l, n);
		line[n] = '\0';
		/* +CREG: <n>,<stat>[,...]: the n is the VP's own. */
		char *colon = strchr(line, ':');
		if (colon && line[0] == '+' && strstr(line, "REG:") &&
		    sscanf(colon + 1, " %d,%d", &mode, &stat) == 2) {
			int own = strncmp(line, "+CREG", 5) == 0    ? vp->at.set.creg
				  : strncmp(line, "+CGREG", 6) == 0 ? vp->at.set.cgreg
								    : vp->at.set.cereg;
			char head[16];
			snprintf(head, sizeof(head), "%.*s", (int)(colon - line), line);
			snprintf(line, sizeof(line), "%s: %d,%d", head, own, stat);
		}
		tel_at_info(&vp->at, line);
		l = nl ? nl + 1 : l + n;
	}
	tel_at_done(&vp->at, result, code);
}

static int mirror(struct tel_dev *dev, struct tel_vp *vp, const struct at_cmd *c, long cops_format,
		  int *code)
{
	char cmd[TEL_LINK_CMD_MAX];
	static const char *const suffix[] = {
		[AT_EXEC] = "", [AT_READ] = "?", [AT_TEST] = "=?", [AT_SET] = "="};

	if (strcmp(c->name, "+COPS") == 0 && c->kind == AT_READ)
		snprintf(cmd, sizeof(cmd), "AT+COPS=3,%ld;+COPS?", cops_format);
	else if (c->kind == AT_SET)
		snprintf(cmd, sizeof(cmd), "AT%s=%s", c->name, c->args);
	else
		snprintf(cmd, sizeof(cmd), "AT%s%s%s", c->name, c->name[0] == 'I' ? c->args : "",
			 suffix[c->kind]);
	if (tel_link_send(dev->link, cmd, NULL, mirror_done, vp) == 0)
		return TEL_PENDING;
	*code = CME_NO_NETWORK;
	return TEL_CME;
}

static int vp_request(void *ctx, struct tel_at *s, const struct tel_request *req, int *code)
{
	struct tel_vp *vp = ctx;
	struct tel_dev *dev = vp->dev;
	char line[128];

	(void)s;
	switch (req->kind) {
	case TEL_REQ_DIAL:
		return tel_call_dial(dev, vp, req->number, code);
	case TEL_REQ_ANSWER:
		return tel_call_answer(dev, vp, code);
	case TEL_REQ_HANGUP:
		return tel_call_hangup(dev, vp, code);
	case TEL_REQ_CHLD:
		return tel_call_chld(dev, vp, req->arg, code);
	case TEL_REQ_VTS:
		return tel_call_vts(dev, vp, req->arg, code);
	case TEL_REQ_CLCC:
		return tel_call_list(dev, vp, code);
	case TEL_REQ_MIRROR:
		return mirror(dev, vp, req->cmd, req->index, code);
	case TEL_REQ_CNUM:
		if (vp->number[0]) {
			snprintf(line, sizeof(line), "+CNUM: \"\",\"%s\",%d", vp->number,
				 tel_number_type(vp->number));
			tel_at_info(&vp->at, line);
		}
		return TEL_OK;
	case TEL_REQ_SIM_MSISDN:
		if (tel_sim_msisdn(vp->number, req->crsm, line, sizeof(line)) < 0)
			return TEL_ERROR;
		tel_at_info(&vp->at, line);
		return TEL_OK;
	default:
		return tel_sms_request(dev, vp, req, code);
	}
}

static const struct tel_at_ops at_ops = {
	.write = vp_write,
	.request = vp_request,
};

/* Its tty closed (no program of the VP has it open): a half line is dropped and its
 * calls end, as when a phone's dialer dies. */
static void vp_closed(struct tel_vp *vp)
{
	int fd, excl = 0;

	if (vp->own_close) {
		vp->own_close = false;
		return;
	}
	tel_at_hangup(&vp->at);
	tel_call_vp_gone(vp->dev, vp, false);
	/* A program that took the tty for itself (TIOCEXCL, as gammu does) leaves the flag
	 * on the pty, which outlives its slave's last close: the next open in the VP would
	 * be EBUSY. A real serial port's flag goes with its last close; so does this one's. */
	if ((fd = open(vp->slave, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) < 0)
		return;
	if (ioctl(fd, TIOCGEXCL, &excl) == 0 && excl && ioctl(fd, TIOCNXCL) < 0)
		log_warn_errno(errno, "telephony: %s: release its tty's exclusive mode", vp->name);
	vp->own_close = true;
	close(fd);
}

static void on_vp_io(struct loop_watch *w, uint32_t events)
{
	struct tel_vp *vp = container_of(w, struct tel_vp, io);
	struct termios t;
	char buf[4096];
	ssize_t n = 0;
	unsigned i;

	(void)events;
	/* A tty left in echo mode (a shell's printf, a program that never set it raw)
	 * sends our echo back as the VP's input: no echo then. tcgetattr on the master reads
	 * the slave's settings. */
	vp->at.tty_echoes = tcgetattr(w->fd, &t) == 0 && (t.c_lflag & ECHO);
	for (i = 0; i < READS_MAX; i++) {
		n = read(w->fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		vp->own_close = false; /* the VP has it open: cellsd's close is long seen */
		tel_at_feed(&vp->at, buf, (size_t)n);
	}
	if (n < 0 && errno == EIO) {
		vp_closed(vp);
		return;
	}
	/* Edge-triggered: more may be waiting; watching anew reports it at once. */
	if (i == READS_MAX) {
		devns_unwatch(vp->dev->core, &vp->io);
		if (devns_watch(vp->dev->core, &vp->io, EPOLLIN | EPOLLET) < 0)
			log_warn("telephony: %s: cannot watch its tty again", vp->name);
	}
}

/* -- the device ------------------------------------------------------------------------ */

static int tel_init(struct devns *core, void **global, struct error *err)
{
	struct tel_dev *dev = calloc(1, sizeof(*dev));
	const char *v[1];
	int ret;

	if (!dev)
		return error_set(err, ENOMEM, "telephony");
	dev->core = core;
	dev->end_reason = TEL_NO_CARRIER;
	snprintf(dev->numbers.prefix, sizeof(dev->numbers.prefix), TEL_TAG_PREFIX_DEFAULT);
	if (devns_option_values(core, "forward-tag", v, 1))
		snprintf(dev->numbers.prefix, sizeof(dev->numbers.prefix), "%s", v[0]);
	if (devns_option_values(core, "forward-access", v, 1))
		snprintf(dev->numbers.access, sizeof(dev->numbers.access), "%s", v[0]);
	if (devns_option_values(core, "forward-sms", v, 1))
		snprintf(dev->numbers.gateway, sizeof(dev->numbers.gateway), "%s", v[0]);
	if (devns_option_values(core, "sim-number", v, 1)) {
		snprintf(dev->numbers.sim, sizeof(dev->numbers.sim), "%s", v[0]);
		dev->sim_given = true;
	}
	*global = dev;
	dev->kick = (struct loop_watch){eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), on_kick};
	if (dev->kick.fd < 0) {
		ret = error_set(err, errno, "telephony: eventfd");
		goto fail;
	}
	if ((ret = devns_watch(core, &dev->kick, EPOLLIN)) < 0) {
		ret = error_set(err, ret, "telephony: watch its eventfd");
		close(dev->kick.fd);
		goto fail;
	}
	if (!devns_option_values(core, "modem", v, 1))
		return 0;
	if ((ret = tel_link_open(core, v[0], &link_ops, dev, &dev->link, err)) < 0) {
		devns_unwatch(core, &dev->kick);
		close(dev->kick.fd);
		goto fail;
	}
	return 0;
fail:
	free(dev);
	*global = NULL;
	return ret;
}

static void tel_fini(void *global)
{
	struct tel_dev *dev = global;

	tel_link_close(dev->link);
	devns_unwatch(dev->core, &dev->kick);
	close(dev->kick.fd);
	free(dev);
}

static void release(struct tel_dev *dev, struct tel_vp *vp)
{
	if (vp->io.fd >= 0) {
		devns_unwatch(dev->core, &vp->io);
		close(vp->io.fd);
	}
	if (vp->dir[0])
		vpty_unmount(vp->dir);
	free(vp);
}

static int tel_prepare(void *global, const struct vdev_vp *v, void **state, struct vdev_file *files,
		       unsigned *nfiles, struct error *err)
{
	struct tel_dev *dev = global;
	struct tel_vp *vp;
	const char *number = vdev_setting(v, "number");
	struct termios t;
	int ret;

	*nfiles = 0;
	*state = NULL;
	if (!dev->link)
		return 0; /* no modem: no telephony */
	if (!(vp = calloc(1, sizeof(*vp))))
		return error_set(err, ENOMEM, "telephony");
	vp->dev = dev;
	vp->io.fd = -1;
	vp->id = v->id;
	snprintf(vp->name, sizeof(vp->name), "%s", v->name);
	snprintf(vp->number, sizeof(vp->number), "%s", number ? number : "");
	vp->on_call = on_call_of(vdev_setting(v, "on-call"));
	tel_at_init(&vp->at, &at_ops, vp);
	if ((ret = vdev_persist_dir(v, vp->store, sizeof(vp->store), err)) < 0)
		goto fail;
	if ((size_t)snprintf(vp->dir, sizeof(vp->dir), "%s/%s.tel", v->dir, v->name) >=
	    sizeof(vp->dir)) {
		vp->dir[0] = '\0';
		ret = error_set(err, ENAMETOOLONG, "telephony: directory of %s", v->name);
		goto fail;
	}
	if ((ret = vpty_mount(vp->dir, 1, err)) < 0) {
		vp->dir[0] = '\0';
		goto fail;
	}
	/* root:dialout 0660, as a modem's tty. The slave is not kept open here: its last
	 * close in the VP is how the device learns that the VP let go of its calls. */
	if ((ret = vpty_open(vp->dir, v->uid, v->uid + DIALOUT_GID, 0660, &vp->io.fd, NULL,
			     files[0].host_path, sizeof(files[0].host_path), err)) < 0)
		goto fail;
	/* Raw, as a modem's tty is once its program set it up: a VP's shell can talk AT to it
	 * (printf, cat) without its echo coming back to cellsd as input. */
	if (tcgetattr(vp->io.fd, &t) == 0) {
		cfmakeraw(&t);
		if (tcsetattr(vp->io.fd, TCSANOW, &t) < 0)
			log_warn_errno(errno, "telephony: %s: set its tty raw", v->name);
	}
	snprintf(files[0].vp_path, sizeof(files[0].vp_path), "/dev/ttyM0");
	snprintf(vp->slave, sizeof(vp->slave), "%s", files[0].host_path);
	vp->io.handle = on_vp_io;
	if ((ret = devns_watch(dev->core, &vp->io, EPOLLIN | EPOLLET)) < 0) {
		ret = error_set(err, ret, "telephony: watch %s's tty", v->name);
		goto fail;
	}
	vp->next = dev->vps;
	dev->vps = vp;
	*nfiles = 1;
	*state = vp;
	return 0;
fail:
	if (vp->io.fd >= 0) {
		close(vp->io.fd);
		vp->io.fd = -1;
	}
	release(dev, vp);
	return ret;
}

static void tel_teardown(void *global, void *state)
{
	struct tel_dev *dev = global;
	struct tel_vp *vp = state;

	if (!vp)
		return;
	tel_call_vp_gone(dev, vp, true);
	tel_link_forget(dev->link, vp);
	for (struct tel_vp **p = &dev->vps; *p; p = &(*p)->next)
		if (*p == vp) {
			*p = vp->next;
			break;
		}
	release(dev, vp);
}

/* Its /sys: ttyM0 as ModemManager and oFono find a modem's port (through udev, which a VP
 * does not run: the database is written for them), with its node's own numbers. */
static int tel_sysfs(void *global, void *state, struct sysfs_tree *tree, struct error *err)
{
	struct tel_vp *vp = state;
	struct stat st;

	(void)global;
	if (!vp)
		return 0;
	if (stat(vp->slave, &st) < 0)
		return error_set(err, errno, "telephony: %s", vp->slave);
	return sysfs_layout_modem(tree, "ttyM0", major(st.st_rdev), minor(st.st_rdev), err);
}

static void tel_switched(void *global, const struct vdev_vp *to)
{
	struct tel_dev *dev = global;

	snprintf(dev->foreground, sizeof(dev->foreground), "%s", to ? to->name : "");
}

static int tel_configure(void *global, void *state, const char *key, const char *value,
			 struct error *err)
{
	struct tel_vp *vp = state;

	(void)global, (void)err;
	if (!vp)
		return 0;
	if (strcmp(key, "number") == 0)
		snprintf(vp->number, sizeof(vp->number), "%s", value);
	else if (strcmp(key, "on-call") == 0)
		vp->on_call = on_call_of(value);
	return 0;
}

static void tel_stats(void *global, json_t *stats)
{
	struct tel_dev *dev = global;
	unsigned long sent, urcs, lines = 0, errors = 0;

	tel_link_counts(dev->link, &sent, &urcs);
	for (struct tel_vp *vp = dev->vps; vp; vp = vp->next)
		lines += vp->at.lines, errors += vp->at.errors;
	json_object_set_new(
		stats, "telephony",
		json_pack("{s:b, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			  "modem_up", tel_link_up(dev->link), "sim_number", dev->numbers.sim,
			  "calls_in", (json_int_t)dev->calls_in, "calls_out",
			  (json_int_t)dev->calls_out, "calls_refused",
			  (json_int_t)dev->calls_refused, "sms_in", (json_int_t)dev->sms_in,
			  "sms_out", (json_int_t)dev->sms_out, "sms_refused",
			  (json_int_t)dev->sms_refused, "modem_commands", (json_int_t)sent,
			  "modem_urcs", (json_int_t)urcs, "vp_lines", (json_int_t)lines,
			  "vp_errors", (json_int_t)errors));
}

static const char *const stat_names[] = {"active",   "held",	 "dialing",
					 "alerting", "incoming", "waiting"};

/* `cell device telephony calls`: the modem's calls and whose they are. */
static int tel_calls_verb(void *global, json_t *args, json_t *reply, struct error *err)
{
	struct tel_dev *dev = global;
	json_t *list = json_array();
	char text[1024] = "";
	size_t off = 0;

	(void)args, (void)err;
	for (unsigned i = 0; i < TEL_CALLS; i++) {
		const struct tel_call *c = &dev->calls[i];
		const char *st = (unsigned)c->stat < 6 ? stat_names[c->stat] : "?";
		if (!c->used)
			continue;
		json_array_append_new(list, json_pack("{s:s?, s:s, s:s, s:s}", "vp",
						      c->vp ? c->vp->name : NULL, "direction",
						      c->dir ? "in" : "out", "state", st, "number",
						      c->number));
		off += (size_t)snprintf(text + off, sizeof(text) - off, "%-16s %-4s %-9s %s\n",
					c->vp ? c->vp->name : "-", c->dir ? "in" : "out", st,
					c->number);
	}
	if (!off)
		snprintf(text, sizeof(text), "no call\n");
	json_object_set_new(reply, "calls", list);
	json_object_set_new(reply, "text", json_string(text));
	return 0;
}

/* `cell device telephony accept`: the root's accept key for the ringing call. */
static int tel_accept_verb(void *global, json_t *args, json_t *reply, struct error *err)
{
	struct tel_dev *dev = global;
	const char *name = NULL;
	char text[128];
	int ret;

	(void)args;
	if ((ret = tel_call_accept(dev, &name)) < 0)
		return error_set(err, 0,
				 ret == -ENOENT ? "no call is ringing" : "the modem is not up");
	snprintf(text, sizeof(text), "answered the call for %s\n", name);
	json_object_set_new(reply, "vp", json_string(name));
	json_object_set_new(reply, "text", json_string(text));
	return 0;
}

/* The system's accept key (the input device's --accept-key): as `accept`; with no call
 * ringing it does nothing. */
static void tel_system_key(void *global, enum devns_system_key key)
{
	const char *name;
	int ret;

	if (key != DEVNS_KEY_ACCEPT)
		return;
	if ((ret = tel_call_accept(global, &name)) < 0 && ret != -ENOENT)
		log_warn("telephony: the accept key: the modem is not up");
}

static const struct vdev_verb tel_verbs[] = {
	{"calls", "", "the modem's calls and the VPs they belong to", tel_calls_verb},
	{"accept", "", "answer the call ringing now (and switch to its VP)", tel_accept_verb},
	{NULL, NULL, NULL, NULL},
};

const struct vdev_ops vdev_telephony = {
	.name = "telephony",
	.initial_access = DEV_SHARED,
	.options = tel_options,
	.check_option = tel_check_option,
	.settings = tel_settings,
	.check_setting = tel_check_setting,
	.configure = tel_configure,
	.verbs = tel_verbs,
	.init = tel_init,
	.fini = tel_fini,
	.prepare = tel_prepare,
	.teardown = tel_teardown,
	.sysfs = tel_sysfs,
	.switched = tel_switched,
	.system_key = tel_system_key,
	.stats = tel_stats,
};
