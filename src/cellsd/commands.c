/* The control protocol's commands: each takes a request object and answers the client,
 * now or (stop, exec, image build) when the work is done. */
#include "cellsd/daemon.h"
#include "cellsd/viewer.h"
#include "common/cleanup.h"
#include "common/clock.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/keymap.h"
#include "sinks/png.h"

#include <errno.h>
#include <linux/input.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *req_string(json_t *req, const char *key)
{
	return json_string_value(json_object_get(req, key));
}

struct vp *req_vp(struct client *c, json_t *req)
{
	const char *name = req_string(req, "name");
	char msg[128];
	struct vp *vp;

	if (!name) {
		client_reply_error(c, "request needs a \"name\"");
		return NULL;
	}
	if (!name_is_valid(name)) {
		client_reply_error(c, "invalid VP name");
		return NULL;
	}
	if (!(vp = vp_find(c->daemon, name))) {
		snprintf(msg, sizeof(msg), "no VP named %s", name);
		client_reply_error(c, msg);
	}
	return vp;
}

static void reply_ok(struct client *c)
{
	client_reply(c, json_pack("{s:b}", "ok", 1));
}

static void reply_result(struct client *c, int ret, const struct error *err)
{
	if (ret < 0)
		client_reply_error(c, err->msg);
	else
		reply_ok(c);
}

static void cmd_ping(struct client *c, json_t *req, int *fds, int nfds)
{
	(void)req, (void)fds, (void)nfds;
	client_reply(c, json_pack("{s:b, s:s}", "ok", 1, "version", "0.1"));
}

static void cmd_create(struct client *c, json_t *req, int *fds, int nfds)
{
	struct vp_config config;
	struct error err = {{0}};
	const char *name = req_string(req, "name");

	(void)fds, (void)nfds;
	if (!name || !name_is_valid(name)) {
		client_reply_error(c, "invalid VP name: 1 to 32 letters, digits, '_', '.' or '-', "
				      "starting with a letter or digit");
		return;
	}
	vp_config_defaults(&config, name, devns_catalog(&c->daemon->devns));
	config.disk = c->daemon->default_disk;
	/* Older clients say "autostart": true; an explicit --restart wins. */
	if (json_is_true(json_object_get(req, "autostart")))
		config.restart = VP_RESTART_ALWAYS;
	if (vp_config_apply_request(&config, json_object_get(req, "options"),
				    json_object_get(req, "devices"), &err) < 0) {
		client_reply_error(c, err.msg);
		return;
	}
	reply_result(c, vp_create(c->daemon, &config, &err), &err);
}

/* Without options: the VP's config. With them: the config changed (see vp_reconfigure). */
static void cmd_config(struct client *c, json_t *req, int *fds, int nfds)
{
	struct error err = {{0}};
	struct vp *vp = req_vp(c, req);
	struct vp_config config;

	(void)fds, (void)nfds;
	if (!vp)
		return;
	if (!json_object_size(json_object_get(req, "options")) &&
	    !json_array_size(json_object_get(req, "devices")) &&
	    !json_is_true(json_object_get(req, "autostart"))) {
		client_reply(c, json_pack("{s:b, s:o}", "ok", 1, "config", vp_describe(vp)));
		return;
	}
	config = vp->config;
	if (json_is_true(json_object_get(req, "autostart")))
		config.restart = VP_RESTART_ALWAYS;
	if (vp_config_apply_request(&config, json_object_get(req, "options"),
				    json_object_get(req, "devices"), &err) < 0 ||
	    vp_reconfigure(vp, &config, &err) < 0) {
		client_reply_error(c, err.msg);
		return;
	}
	client_reply(c, json_pack("{s:b, s:o}", "ok", 1, "config", vp_describe(vp)));
}

static void cmd_start(struct client *c, json_t *req, int *fds, int nfds)
{
	struct error err = {{0}};
	struct vp *vp = req_vp(c, req);

	(void)fds, (void)nfds;
	if (!vp)
		return;
	reply_result(c, vp_start(vp, &err), &err);
	vp_start_finish(vp);
}

static void cmd_stop(struct client *c, json_t *req, int *fds, int nfds)
{
	struct error err = {{0}};
	struct vp *vp = req_vp(c, req);
	json_t *timeout = json_object_get(req, "timeout");
	json_int_t seconds = c->daemon->stop_timeout_s;

	(void)fds, (void)nfds;
	if (!vp)
		return;
	if (timeout) {
		seconds = json_integer_value(timeout);
		if (!json_is_integer(timeout) || seconds < 0 || seconds > 3600) {
			client_reply_error(c, "\"timeout\" must be 0..3600 seconds");
			return;
		}
	}
	/* The answer comes when the VP has stopped. */
	if (vp_stop(vp, (unsigned)seconds, c, &err) < 0)
		client_reply_error(c, err.msg);
}

static void cmd_destroy(struct client *c, json_t *req, int *fds, int nfds)
{
	struct error err = {{0}};
	struct vp *vp = req_vp(c, req);

	(void)fds, (void)nfds;
	if (vp)
		reply_result(c, vp_destroy(vp, json_is_true(json_object_get(req, "force")), &err),
			     &err);
}

static void cmd_list(struct client *c, json_t *req, int *fds, int nfds)
{
	struct daemon *d = c->daemon;
	json_t *list = json_array();

	(void)req, (void)fds, (void)nfds;
	for (struct vp *vp = d->vps; vp && list; vp = vp->next) {
		json_t *j = vp_describe(vp);
		if (j && vp->note[0])
			json_object_set_new(j, "note", json_string(vp->note));
		json_array_append_new(list, j);
	}
	client_reply(c, json_pack("{s:b, s:o, s:s?}", "ok", 1, "vps", list, "foreground",
				  d->foreground ? d->foreground->config.name : NULL));
}

static void reply_foreground(struct client *c)
{
	struct vp *fg = c->daemon->foreground;
	client_reply(c, json_pack("{s:b, s:s?, s:f}", "ok", 1, "foreground",
				  fg ? fg->config.name : NULL, "switch_usec",
				  (double)c->daemon->last_switch_ns / 1000.0));
}

static void cmd_switch(struct client *c, json_t *req, int *fds, int nfds)
{
	struct error err = {{0}};
	struct vp *vp = req_vp(c, req);

	(void)fds, (void)nfds;
	if (!vp)
		return;
	if (foreground_switch(c->daemon, vp, &err) < 0)
		client_reply_error(c, err.msg);
	else
		reply_foreground(c);
}

static void switch_step(struct client *c, int direction)
{
	struct vp *to = foreground_neighbour(c->daemon, direction);

	if (!to) {
		client_reply_error(c, "no VP is running");
		return;
	}
	foreground_switch(c->daemon, to, NULL);
	reply_foreground(c);
}

static void cmd_next(struct client *c, json_t *req, int *fds, int nfds)
{
	(void)req, (void)fds, (void)nfds;
	switch_step(c, 1);
}

static void cmd_prev(struct client *c, json_t *req, int *fds, int nfds)
{
	(void)req, (void)fds, (void)nfds;
	switch_step(c, -1);
}

/* A key by name, or a chord ("ctrl+alt+right": its modifiers held around the key). */
static int press_keys(const struct devns_provided_input *in, const char *spec)
{
	static const struct {
		unsigned mod, key;
	} mod_keys[] = {{KEYMAP_CTRL, KEY_LEFTCTRL},
			{KEYMAP_ALT, KEY_LEFTALT},
			{KEYMAP_SHIFT, KEY_LEFTSHIFT},
			{KEYMAP_META, KEY_LEFTMETA}};
	struct key_chord chord = {0, 0};
	unsigned code;
	bool shift;

	/* One character is that character, as typed: "A" is shift+a, ":" shift+semicolon. */
	if (spec[0] && !spec[1] && keymap_from_char((unsigned char)spec[0], &code, &shift) == 0) {
		in->ops->key_shift(in->dev, code, 1, shift, true);
		return 0;
	}
	chord.key = keymap_from_name(spec);
	if (!chord.key && keymap_parse_chord(spec, &chord) < 0)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(mod_keys); i++)
		if (chord.mods & mod_keys[i].mod)
			in->ops->key(in->dev, mod_keys[i].key, 1);
	in->ops->key(in->dev, chord.key, 1);
	in->ops->key(in->dev, chord.key, 0);
	for (size_t i = ARRAY_SIZE(mod_keys); i-- > 0;)
		if (chord.mods & mod_keys[i].mod)
			in->ops->key(in->dev, mod_keys[i].key, 0);
	return 0;
}

/* Whether X, Y is on the screen; if not, answers so, naming WHAT. */
static bool on_screen(struct client *c, const char *what, json_int_t x, json_int_t y, int width,
		      int height)
{
	char msg[128];

	if (x >= 0 && y >= 0 && x < width && y < height)
		return true;
	snprintf(msg, sizeof(msg), "%s wants X and Y on the screen (0..%d, 0..%d)", what, width - 1,
		 height - 1);
	client_reply_error(c, msg);
	return false;
}

#define SWIPE_MS_MAX 10000 /* as its error says */

/* Input from the root, as from a VNC client: a tap at a point, a key, a chord; text and
 * swipes take time and answer when done (input_play.c). */
static void cmd_input(struct client *c, json_t *req, int *fds, int nfds)
{
	const struct devns_provided_input *in = devns_input(&c->daemon->devns);
	json_t *tap = json_object_get(req, "tap"), *swipe = json_object_get(req, "swipe");
	json_t *text = json_object_get(req, "text");
	const char *key = req_string(req, "key");
	struct error err = {{0}};
	json_int_t x, y, x2, y2, ms = 300;
	int width, height;

	(void)fds, (void)nfds;
	if (!in) {
		client_reply_error(c, "no input device");
		return;
	}
	in->ops->size(in->dev, &width, &height);
	if ((tap != NULL) + (swipe != NULL) + (text != NULL) + (key != NULL) != 1) {
		client_reply_error(c, "input wants one of \"tap\": [X, Y], \"key\": NAME, "
				      "\"text\": STRING or \"swipe\": [X1, Y1, X2, Y2, MS]");
		return;
	}
	if (tap) {
		if (json_unpack(tap, "[II!]", &x, &y) < 0)
			x = y = -1;
		if (!on_screen(c, "a tap", x, y, width, height))
			return;
		in->ops->pointer(in->dev, (int)x, (int)y, true);
		in->ops->pointer(in->dev, (int)x, (int)y, false);
	} else if (swipe) {
		if (json_unpack(swipe, "[IIII!]", &x, &y, &x2, &y2) < 0 &&
		    json_unpack(swipe, "[IIIII!]", &x, &y, &x2, &y2, &ms) < 0)
			x = y = -1;
		if (!on_screen(c, "a swipe", x, y, width, height) ||
		    !on_screen(c, "a swipe", x2, y2, width, height))
			return;
		if (ms < 0 || ms > SWIPE_MS_MAX) {
			client_reply_error(c, "a swipe takes 0..10000 ms");
			return;
		}
		if (input_play_swipe(c->daemon, c, (const int[]){(int)x, (int)y, (int)x2, (int)y2},
				     (unsigned)ms, &err) < 0)
			client_reply_error(c, err.msg);
		return; /* answered when done */
	} else if (text) {
		if (!json_is_string(text)) {
			client_reply_error(c, "\"text\" must be a string");
			return;
		}
		if (input_play_text(c->daemon, c, json_string_value(text), json_string_length(text),
				    &err) < 0)
			client_reply_error(c, err.msg);
		return; /* answered when done */
	} else if (press_keys(in, key) < 0) {
		char msg[160];
		snprintf(msg, sizeof(msg), "unknown key or chord '%.64s'", key);
		client_reply_error(c, msg);
		return;
	}
	client_reply(c, json_pack("{s:b}", "ok", 1));
}

/* Where to see the phone and the secrets it takes: root's alone (the control socket). */
static void cmd_viewer(struct client *c, json_t *req, int *fds, int nfds)
{
	struct viewer *v = c->daemon->viewer;

	(void)req, (void)fds, (void)nfds;
	if (!v) {
		client_reply(c, json_pack("{s:b, s:b}", "ok", 1, "running", 0));
		return;
	}
	client_reply(c,
		     json_pack("{s:b, s:b, s:i, s:I, s:s?, s:s?, s:s?, s:s?, s:s, s:s, s:s}", "ok",
			       1, "running", v->pid > 0, "pid", (int)v->pid, "uid",
			       (json_int_t)v->uid, "vnc_unix", v->vnc_unix[0] ? v->vnc_unix : NULL,
			       "vnc_tcp", v->vnc_tcp[0] ? v->vnc_tcp : NULL, "web_unix",
			       v->web_unix[0] ? v->web_unix : NULL, "web_tcp",
			       v->web_tcp[0] ? v->web_tcp : NULL, "vnc_password",
			       v->secrets.vnc_password, "web_token", v->secrets.web_token,
			       "secrets_file", v->secrets_path));
}

static void cmd_active(struct client *c, json_t *req, int *fds, int nfds)
{
	(void)req, (void)fds, (void)nfds;
	reply_foreground(c);
}

static void cmd_console(struct client *c, json_t *req, int *fds, int nfds)
{
	struct error err = {{0}};
	struct vp *vp = req_vp(c, req);
	int fd;

	(void)fds, (void)nfds;
	if (!vp)
		return;
	if (console_attach(vp, c, &fd, &err) < 0) {
		client_reply_error(c, err.msg);
		return;
	}
	client_reply_fds(c, json_pack("{s:b}", "ok", 1), &fd, 1);
	close(fd);
}

/* The console log: its files as descriptors, the sizes they had at the request (what
 * comes later comes, with "follow", through a pipe that ends with the run). */
static void cmd_logs(struct client *c, json_t *req, int *fds, int nfds)
{
	struct error err = {{0}};
	struct vp *vp = req_vp(c, req);
	json_t *sizes = json_array();
	int out[3], nout = 0;
	bool follow = json_is_true(json_object_get(req, "follow"));

	(void)fds, (void)nfds;
	if (!vp || !sizes) {
		if (vp)
			client_reply_error(c, "out of memory");
		json_decref(sizes);
		return;
	}
	if (console_logs(vp, follow, out, &nout, sizes, &err) < 0) {
		json_decref(sizes);
		client_reply_error(c, err.msg);
		return;
	}
	client_reply_fds(c,
			 json_pack("{s:b, s:o, s:b}", "ok", 1, "sizes", sizes, "follow",
				   nout > (int)json_array_size(sizes)),
			 out, nout);
	for (int i = 0; i < nout; i++)
		close(out[i]);
}

static long self_rss_kb(void)
{
	_cleanup_free_ char *text = NULL;
	char *p;

	if (read_file("/proc/self/status", 65536, &text, NULL) < 0 || !(p = strstr(text, "VmRSS:")))
		return -1;
	return strtol(p + 6, NULL, 10);
}

static json_t *vp_stats(struct vp *vp)
{
	struct devns_usage u;
	struct cgroup_stats s;
	json_t *j = json_pack("{s:s, s:s, s:b}", "name", vp->config.name, "state",
			      vp_state_name(vp->state), "foreground", vp->daemon->foreground == vp);

	if (j && vp->note[0])
		json_object_set_new(j, "note", json_string(vp->note));
	if (!j || (vp->state != VP_RUNNING && vp->state != VP_STOPPING))
		return j;
	cgroup_read_stats(vp->rt.cgroups, vp->rt.cgroup, &s);
	json_object_set_new(j, "pid", json_integer(vp->rt.pid));
	json_object_set_new(j, "uptime_s",
			    json_real((double)(monotonic_ns() - vp->started_ns) / 1e9));
	json_object_set_new(j, "memory_bytes", json_integer((json_int_t)s.memory_bytes));
	json_object_set_new(j, "memory_peak_bytes", json_integer((json_int_t)s.memory_max_bytes));
	json_object_set_new(j, "memory_limit_bytes", json_integer((json_int_t)vp->config.memory));
	json_object_set_new(j, "oom_kills", json_integer((json_int_t)s.oom_kills));
	json_object_set_new(j, "pids", json_integer((json_int_t)s.pids));
	json_object_set_new(j, "pids_limit", json_integer(vp->config.pids));
	json_object_set_new(j, "cpu_usec", json_integer((json_int_t)s.cpu_usec));
	scale_vp_stats(vp, j);
	devns_vp_usage(&vp->devns, &u);
	json_object_set_new(j, "device_calls", json_integer((json_int_t)u.calls));
	json_object_set_new(j, "device_busy_usec", json_integer((json_int_t)(u.busy_ns / 1000)));
	json_object_set_new(j, "device_throttled", json_integer((json_int_t)u.throttled));
	devns_vp_stats(&vp->devns, j);
	return j;
}

static void cmd_stats(struct client *c, json_t *req, int *fds, int nfds)
{
	struct daemon *d = c->daemon;
	json_t *list = json_array();
	unsigned total = 0, running = 0;
	struct vp *only = NULL;
	json_t *extra, *reply;
	uint64_t calls, emulated;

	(void)fds, (void)nfds;
	if (json_object_get(req, "name") && !(only = req_vp(c, req)))
		return;
	for (struct vp *vp = d->vps; vp; vp = vp->next) {
		total++;
		running += vp->state == VP_RUNNING;
		if (!only || only == vp)
			json_array_append_new(list, vp_stats(vp));
	}
	extra = json_object();
	calls = atomic_load(&d->devns.calls);
	emulated = atomic_load(&d->devns.calls_emulated);
	json_object_set_new(extra, "device_calls", json_integer((json_int_t)calls));
	json_object_set_new(extra, "device_calls_emulated", json_integer((json_int_t)emulated));
	devns_stats(&d->devns, extra);
	scale_stats(d, extra);
	json_object_set_new(extra, "vnc_clients",
			    json_integer(d->viewer ? (json_int_t)d->viewer->clients : 0));
	json_object_set_new(extra, "vnc_bytes_sent",
			    json_integer(d->viewer ? (json_int_t)(d->viewer->bytes_before +
								  d->viewer->bytes_sent)
						   : 0));
	json_object_set_new(extra, "viewer_pid",
			    json_integer(d->viewer ? (json_int_t)d->viewer->pid : 0));
	reply = json_pack("{s:b, s:{s:i, s:i, s:i, s:I, s:f, s:s}, s:o}", "ok", 1, "daemon",
			  "rss_kb", (int)self_rss_kb(), "vps", total, "running", running,
			  "switches", (json_int_t)d->switches, "last_switch_usec",
			  (double)d->last_switch_ns / 1000.0, "cgroups",
			  d->cgroups.v2 ? "v2" : "v1", "vps", list);
	if (reply)
		json_object_update(json_object_get(reply, "daemon"), extra);
	json_decref(extra);
	client_reply(c, reply);
}

static void cmd_events(struct client *c, json_t *req, int *fds, int nfds)
{
	(void)req, (void)fds, (void)nfds;
	reply_ok(c);
	c->subscribed = true;
}

static void cmd_image_list(struct client *c, json_t *req, int *fds, int nfds)
{
	(void)req, (void)fds, (void)nfds;
	client_reply(c, json_pack("{s:b, s:o}", "ok", 1, "images", images_list(c->daemon)));
}

static void cmd_image_build(struct client *c, json_t *req, int *fds, int nfds)
{
	struct error err = {{0}};
	const char *name = req_string(req, "name");

	if (image_build(c->daemon, name ? name : "minimal", c, nfds > 0 ? fds[0] : -1, &err) < 0)
		client_reply_error(c, err.msg);
}

static void cmd_image_import(struct client *c, json_t *req, int *fds, int nfds)
{
	struct error err = {{0}};
	const char *name = req_string(req, "name");
	const char *source = req_string(req, "source");

	if (!name || !source) {
		client_reply_error(c, "image import needs \"name\" and \"source\"");
		return;
	}
	if (image_import(c->daemon, name, source, c, nfds > 0 ? fds[0] : -1, &err) < 0)
		client_reply_error(c, err.msg);
}

static void cmd_image_rm(struct client *c, json_t *req, int *fds, int nfds)
{
	struct error err = {{0}};
	const char *name = req_string(req, "name");

	(void)fds, (void)nfds;
	if (!name) {
		client_reply_error(c, "image rm needs a \"name\"");
		return;
	}
	reply_result(c, image_remove(c->daemon, name, &err), &err);
}

static void on_screenshot_done(struct job *job, int status)
{
	struct client *c = job->client;

	if (!c || c->closed)
		return;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		client_reply_error(c, "screenshot: could not write the PNG (see cellsd's log)");
	else
		client_reply(c, json_pack("{s:b}", "ok", 1));
}

/* The picture is composed here, at once; a child encodes and writes it, so a slow or
 * stuck reader of the file (a pipe) holds no one but itself. */
static void cmd_screenshot(struct client *c, json_t *req, int *fds, int nfds)
{
	struct daemon *d = c->daemon;
	const struct devns_provided_screen *screen = devns_screen(&d->devns);
	struct error err = {{0}};
	_cleanup_free_ uint32_t *pixels = NULL;
	struct job *job;
	int width, height;
	pid_t pid;

	(void)req;
	if (nfds != 1) {
		client_reply_error(c, "screenshot needs the file to write, as a descriptor");
		return;
	}
	if (!screen) {
		client_reply_error(c, "screenshot: no display device");
		return;
	}
	screen->ops->size(screen->dev, &width, &height);
	pixels = malloc((size_t)width * (size_t)height * sizeof(*pixels));
	if (!pixels) {
		client_reply_error(c, "out of memory");
		return;
	}
	screen->ops->compose(screen->dev, pixels);
	devns_dim(&d->devns, pixels, (size_t)width * (size_t)height);
	pid = devns_fork(&d->devns);
	if (pid < 0) {
		client_reply_error(c, "screenshot: fork failed");
		return;
	}
	if (pid == 0) {
		vp_reset_signals();
		if (png_write_xrgb(fds[0], pixels, width, height, &err) < 0) {
			log_error("screenshot: %s", err.msg);
			_exit(1);
		}
		_exit(0);
	}
	job = job_start(d, pid, c, on_screenshot_done, &err);
	if (!job) {
		client_reply_error(c, err.msg);
		return;
	}
	job->ends_with_client = true;
}

/* `cell device`: the devices, their rights, settings and commands. */
static void cmd_devices(struct client *c, json_t *req, int *fds, int nfds)
{
	(void)req, (void)fds, (void)nfds;
	client_reply(
		c, json_pack("{s:b, s:o}", "ok", 1, "devices", devns_describe(&c->daemon->devns)));
}

/* `cell device DEVICE VERB [ARG]...`: the device answers. */
static void cmd_device(struct client *c, json_t *req, int *fds, int nfds)
{
	const char *device = req_string(req, "device"), *verb = req_string(req, "verb");
	json_t *args = json_object_get(req, "args"), *arg;
	_cleanup_json_ json_t *reply = json_object();
	struct error err = {{0}};
	size_t i;

	(void)fds, (void)nfds;
	if (!device || !verb || !json_is_array(args) || !reply) {
		client_reply_error(c, "device wants \"device\", \"verb\" and \"args\"");
		return;
	}
	json_array_foreach(args, i, arg) if (!json_is_string(arg))
	{
		client_reply_error(c, "a device command's arguments are strings");
		return;
	}
	if (devns_run_verb(&c->daemon->devns, device, verb, args, reply, &err) < 0) {
		client_reply_error(c, err.msg);
		return;
	}
	json_object_set_new(reply, "ok", json_true());
	client_reply(c, json_incref(reply));
}

static const struct {
	const char *name;
	void (*run)(struct client *c, json_t *req, int *fds, int nfds);
} commands[] = {
	{"ping", cmd_ping},
	{"create", cmd_create},
	{"config", cmd_config},
	{"start", cmd_start},
	{"stop", cmd_stop},
	{"destroy", cmd_destroy},
	{"list", cmd_list},
	{"switch", cmd_switch},
	{"next", cmd_next},
	{"prev", cmd_prev},
	{"active", cmd_active},
	{"input", cmd_input},
	{"exec", cmd_exec},
	{"console", cmd_console},
	{"logs", cmd_logs},
	{"stats", cmd_stats},
	{"viewer", cmd_viewer},
	{"events", cmd_events},
	{"image.list", cmd_image_list},
	{"image.build", cmd_image_build},
	{"image.import", cmd_image_import},
	{"image.rm", cmd_image_rm},
	{"screenshot", cmd_screenshot},
	{"devices", cmd_devices},
	{"device", cmd_device},
};

void command_dispatch(struct client *c, json_t *req, int *fds, int nfds)
{
	const char *cmd = req_string(req, "cmd");
	char msg[128];

	if (!cmd) {
		client_reply_error(c, "request needs a \"cmd\"");
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, cmd) == 0) {
			commands[i].run(c, req, fds, nfds);
			return;
		}
	snprintf(msg, sizeof(msg), "unknown command '%.64s'", cmd);
	client_reply_error(c, msg);
}
