/* cell: the command line of Cells. It speaks only the control protocol of cellsd. */
#include "cli/client.h"
#include "common/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_USAGE 2

static const char usage_text[] =
	"usage: cell [--run DIR] COMMAND [ARG]...\n"
	"  image build [NAME]                 build an image from its recipe (default minimal)\n"
	"  image list                         list images\n"
	"  image import NAME DIR|TARBALL      make an image of any root file system\n"
	"  create NAME [--image NAME] [--device DEV=none|shared|exclusive]... [--number NUM]\n"
	"              [--memory SIZE] [--pids N] [--cpu PERCENT] [--uplink wlan|cell]\n"
	"              [--restart always|unless-stopped|no] [--autostart]\n"
	"  config NAME [create's options] [--json]  print or change a VP's config\n"
	"  start NAME | stop NAME [--timeout S] | destroy NAME [--force]\n"
	"  list [--json]                      VPs and their state\n"
	"  switch NAME | next | prev | active the foreground VP\n"
	"  exec NAME -- CMD [ARG]...          run a command inside a VP\n"
	"  console NAME                       the VP's console (Ctrl-] leaves)\n"
	"  stats [NAME] [--json]              resource use\n"
	"  events                             stream events as JSON lines\n"
	"  screenshot FILE.png                what the screen shows now\n"
	"  input tap X Y | input key NAME|CHORD\n"
	"                                     touch or type into the foreground VP\n"
	"                                     (a chord: ctrl+alt+right)\n"
	"The daemon is found in --run DIR, $CELLS_RUN, or /run/cells.\n";

static int usage_error(const char *fmt, const char *arg)
{
	fputs("cell: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\n(see cell --help)\n", stderr);
	return EXIT_USAGE;
}

/* A request that is answered with "ok" alone. */
static int simple(struct cli *cli, json_t *req)
{
	return cli_request(cli, req, NULL, 0, NULL) < 0 ? 1 : 0;
}

static int print_json(json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2));
	putchar('\n');
	return 0;
}

static const char *str_of(json_t *obj, const char *key, const char *fallback)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s && s[0] ? s : fallback;
}

static int cmd_image(struct cli *cli, int argc, char **argv)
{
	_cleanup_json_ json_t *reply = NULL;
	int out = 2;

	if (argc < 2)
		return usage_error("image wants build, list or import%s", "");
	if (strcmp(argv[1], "list") == 0 && argc == 2) {
		json_t *img;
		size_t i;
		if (cli_request(cli, json_pack("{s:s}", "cmd", "image.list"), NULL, 0, &reply) < 0)
			return 1;
		printf("%-20s %-4s %s\n", "NAME", "VPS", "SOURCE");
		json_array_foreach(json_object_get(reply, "images"), i, img)
			printf("%-20s %-4lld %s\n", str_of(img, "name", "?"),
			       (long long)json_integer_value(json_object_get(img, "vps")),
			       str_of(img, "source", "-"));
		return 0;
	}
	if (strcmp(argv[1], "build") == 0 && argc <= 3) {
		const char *name = argc == 3 ? argv[2] : "minimal";
		if (cli_request(cli, json_pack("{s:s, s:s}", "cmd", "image.build", "name", name),
				&out, 1, NULL) < 0)
			return 1;
		printf("image %s built\n", name);
		return 0;
	}
	if (strcmp(argv[1], "import") == 0 && argc == 4) {
		char source[PATH_MAX];
		if (!realpath(argv[3], source)) {
			cli_error("%s: %s", argv[3], strerror(errno));
			return 1;
		}
		if (cli_request(cli,
				json_pack("{s:s, s:s, s:s}", "cmd", "image.import", "name", argv[2],
					  "source", source),
				&out, 1, NULL) < 0)
			return 1;
		printf("image %s imported from %s\n", argv[2], source);
		return 0;
	}
	return usage_error("bad image command '%s'", argv[1]);
}

/* The options of create and config: the request's "options" and "devices". */
struct vp_options {
	json_t *options, *devices;
	bool autostart, json;
	const char *name;
};

static int parse_vp_options(const char *verb, int argc, char **argv, struct vp_options *o)
{
	static const struct option opts[] = {
		{"image", required_argument, NULL, 'i'},
		{"device", required_argument, NULL, 'd'},
		{"number", required_argument, NULL, 'n'},
		{"memory", required_argument, NULL, 'm'},
		{"pids", required_argument, NULL, 'p'},
		{"cpu", required_argument, NULL, 'c'},
		{"uplink", required_argument, NULL, 'u'},
		{"background", required_argument, NULL, 'b'},
		{"restart", required_argument, NULL, 'r'},
		{"autostart", no_argument, NULL, 'a'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	int opt, idx;

	o->options = json_object();
	o->devices = json_array();
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, &idx)) != -1) {
		if (opt == '?')
			return usage_error("bad or incomplete option '%s'", argv[optind - 1]);
		if (opt == 'd')
			json_array_append_new(o->devices, json_string(optarg));
		else if (opt == 'a')
			o->autostart = true;
		else if (opt == 'j' && strcmp(verb, "config") == 0)
			o->json = true;
		else if (opt == 'j')
			return usage_error("%s has no --json", verb);
		else
			json_object_set_new(o->options, opts[idx].name, json_string(optarg));
	}
	if (optind != argc - 1)
		return usage_error("%s wants exactly one NAME", verb);
	o->name = argv[optind];
	return 0;
}

static void vp_options_free(struct vp_options *o)
{
	json_decref(o->options);
	json_decref(o->devices);
}

static int cmd_create(struct cli *cli, int argc, char **argv)
{
	struct vp_options o = {0};
	json_t *req;
	int ret = parse_vp_options("create", argc, argv, &o);

	if (ret == 0) {
		req = json_pack("{s:s, s:s, s:O, s:O, s:b}", "cmd", "create", "name", o.name,
				"options", o.options, "devices", o.devices, "autostart",
				o.autostart);
		ret = simple(cli, req);
	}
	vp_options_free(&o);
	return ret;
}

static void print_config(json_t *config)
{
	json_int_t memory = json_integer_value(json_object_get(config, "memory"));
	json_int_t cpu = json_integer_value(json_object_get(config, "cpu"));
	json_t *devices = json_object_get(config, "devices"), *right;
	const char *dev;

	printf("%-10s %s\n", "name", str_of(config, "name", "?"));
	printf("%-10s %lld\n", "id", (long long)json_integer_value(json_object_get(config, "id")));
	printf("%-10s %s\n", "state", str_of(config, "state", "?"));
	printf("%-10s %s\n", "image", str_of(config, "image", "?"));
	if (memory && memory % (1 << 30) == 0)
		printf("%-10s %lldG\n", "memory", (long long)memory >> 30);
	else if (memory && memory % (1 << 20) == 0)
		printf("%-10s %lldM\n", "memory", (long long)memory >> 20);
	else if (memory)
		printf("%-10s %lld bytes\n", "memory", (long long)memory);
	else
		printf("%-10s no limit\n", "memory");
	printf("%-10s %lld\n", "pids",
	       (long long)json_integer_value(json_object_get(config, "pids")));
	if (cpu)
		printf("%-10s %lld%% of a CPU\n", "cpu", (long long)cpu);
	else
		printf("%-10s no limit\n", "cpu");
	printf("%-10s %s\n", "restart", str_of(config, "restart", "?"));
	printf("%-10s", "devices");
	json_object_foreach(devices, dev, right) printf(" %s=%s", dev, json_string_value(right));
	putchar('\n');
}

/* `cell config NAME` prints the config; with options it changes them and prints the
 * result. */
static int cmd_config(struct cli *cli, int argc, char **argv)
{
	_cleanup_json_ json_t *reply = NULL;
	struct vp_options o = {0};
	json_t *req;
	int ret = parse_vp_options("config", argc, argv, &o);

	if (ret == 0) {
		req = json_pack("{s:s, s:s, s:O, s:O, s:b}", "cmd", "config", "name", o.name,
				"options", o.options, "devices", o.devices, "autostart",
				o.autostart);
		ret = cli_request(cli, req, NULL, 0, &reply) < 0 ? 1 : 0;
	}
	if (ret == 0 && o.json)
		print_json(json_object_get(reply, "config"));
	else if (ret == 0)
		print_config(json_object_get(reply, "config"));
	vp_options_free(&o);
	return ret;
}

static int cmd_named(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"force", no_argument, NULL, 'f'},
		{"timeout", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	const char *cmd = argv[0];
	json_t *req;
	int opt;
	bool force = false;
	long timeout = -1;
	char *end;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'f' && strcmp(cmd, "destroy") == 0) {
			force = true;
		} else if (opt == 't' && strcmp(cmd, "stop") == 0) {
			timeout = strtol(optarg, &end, 10);
			if (*end || timeout < 0 || timeout > 3600)
				return usage_error("--timeout wants 0..3600 seconds, not '%s'",
						   optarg);
		} else {
			return usage_error("bad option for %s", cmd);
		}
	}
	if (optind != argc - 1)
		return usage_error("%s wants exactly one NAME", cmd);
	req = json_pack("{s:s, s:s}", "cmd", cmd, "name", argv[optind]);
	if (force)
		json_object_set_new(req, "force", json_true());
	if (timeout >= 0)
		json_object_set_new(req, "timeout", json_integer(timeout));
	if (strcmp(cmd, "switch") == 0) {
		if (cli_request(cli, req, NULL, 0, NULL) < 0)
			return 1;
		return 0;
	}
	return simple(cli, req);
}

static bool want_json(int argc, char **argv, int *nargs)
{
	bool json = false;

	*nargs = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else
			argv[++*nargs] = argv[i];
	}
	return json;
}

static int cmd_list(struct cli *cli, int argc, char **argv)
{
	_cleanup_json_ json_t *reply = NULL;
	int nargs;
	bool json = want_json(argc, argv, &nargs);
	json_t *vp;
	size_t i;

	if (nargs != 0)
		return usage_error("list takes no argument but --json%s", "");
	if (cli_request(cli, json_pack("{s:s}", "cmd", "list"), NULL, 0, &reply) < 0)
		return 1;
	if (json)
		return print_json(json_object_get(reply, "vps"));
	printf("%-20s %4s %-9s %-12s %8s %s\n", "NAME", "ID", "STATE", "IMAGE", "PID", "FG");
	json_array_foreach(json_object_get(reply, "vps"), i, vp)
	{
		json_t *pid = json_object_get(vp, "pid");
		char pid_text[24] = "-";
		if (pid)
			snprintf(pid_text, sizeof(pid_text), "%lld",
				 (long long)json_integer_value(pid));
		printf("%-20s %4lld %-9s %-12s %8s %s\n", str_of(vp, "name", "?"),
		       (long long)json_integer_value(json_object_get(vp, "id")),
		       str_of(vp, "state", "?"), str_of(vp, "image", "?"), pid_text,
		       json_is_true(json_object_get(vp, "foreground")) ? "*" : "");
		if (json_object_get(vp, "error"))
			printf("  error: %s\n", str_of(vp, "error", ""));
	}
	return 0;
}

static int cmd_foreground(struct cli *cli, int argc, char **argv)
{
	_cleanup_json_ json_t *reply = NULL;
	const char *fg;

	if (argc != 1)
		return usage_error("%s takes no argument", argv[0]);
	if (cli_request(cli, json_pack("{s:s}", "cmd", argv[0]), NULL, 0, &reply) < 0)
		return 1;
	fg = str_of(reply, "foreground", NULL);
	if (!fg) {
		cli_error("no VP is in the foreground");
		return 1;
	}
	printf("%s\n", fg);
	return 0;
}

static int cmd_input(struct cli *cli, int argc, char **argv)
{
	_cleanup_json_ json_t *reply = NULL;
	json_t *req;
	long x, y;
	char *end;

	if (argc == 4 && strcmp(argv[1], "tap") == 0) {
		errno = 0;
		x = strtol(argv[2], &end, 10);
		if (errno || *end || !argv[2][0])
			return usage_error("input tap wants X Y, not '%s'", argv[2]);
		y = strtol(argv[3], &end, 10);
		if (errno || *end || !argv[3][0])
			return usage_error("input tap wants X Y, not '%s'", argv[3]);
		req = json_pack("{s:s, s:[I,I]}", "cmd", "input", "tap", (json_int_t)x,
				(json_int_t)y);
	} else if (argc == 3 && strcmp(argv[1], "key") == 0) {
		req = json_pack("{s:s, s:s}", "cmd", "input", "key", argv[2]);
	} else {
		return usage_error("input wants 'tap X Y' or 'key NAME|CHORD'%s", "");
	}
	return cli_request(cli, req, NULL, 0, &reply) < 0 ? 1 : 0;
}

static int cmd_exec(struct cli *cli, int argc, char **argv)
{
	_cleanup_json_ json_t *reply = NULL;
	const int stdio[3] = {0, 1, 2};
	json_t *args;
	int first = 2;

	if (argc < 3)
		return usage_error("exec wants NAME -- CMD [ARG]...%s", "");
	if (strcmp(argv[2], "--") == 0)
		first = 3;
	if (first >= argc)
		return usage_error("exec wants a command after NAME --%s", "");
	args = json_array();
	for (int i = first; i < argc; i++)
		json_array_append_new(args, json_string(argv[i]));
	if (cli_request(cli,
			json_pack("{s:s, s:s, s:o, s:s?}", "cmd", "exec", "name", argv[1], "argv",
				  args, "term", getenv("TERM")),
			stdio, 3, &reply) < 0)
		return 125;
	return (int)json_integer_value(json_object_get(reply, "status"));
}

static void print_size(const char *label, json_t *vp, const char *key)
{
	json_t *v = json_object_get(vp, key);
	if (v)
		printf("  %-14s %.1f MiB\n", label, (double)json_integer_value(v) / 1048576.0);
}

static int cmd_stats(struct cli *cli, int argc, char **argv)
{
	_cleanup_json_ json_t *reply = NULL;
	int nargs;
	bool json = want_json(argc, argv, &nargs);
	json_t *req = json_pack("{s:s}", "cmd", "stats");
	json_t *d, *vp;
	size_t i;

	if (nargs > 1)
		return usage_error("stats takes at most one NAME%s", "");
	if (nargs == 1)
		json_object_set_new(req, "name", json_string(argv[1]));
	if (cli_request(cli, req, NULL, 0, &reply) < 0)
		return 1;
	if (json)
		return print_json(reply);
	d = json_object_get(reply, "daemon");
	printf("cellsd: %lld KiB resident, %lld VPs (%lld running), %lld switches, last %.1f us, "
	       "cgroup %s\n",
	       (long long)json_integer_value(json_object_get(d, "rss_kb")),
	       (long long)json_integer_value(json_object_get(d, "vps")),
	       (long long)json_integer_value(json_object_get(d, "running")),
	       (long long)json_integer_value(json_object_get(d, "switches")),
	       json_real_value(json_object_get(d, "last_switch_usec")), str_of(d, "cgroups", "?"));
	json_array_foreach(json_object_get(reply, "vps"), i, vp)
	{
		printf("%s: %s%s\n", str_of(vp, "name", "?"), str_of(vp, "state", "?"),
		       json_is_true(json_object_get(vp, "foreground")) ? ", foreground" : "");
		if (!json_object_get(vp, "pid"))
			continue;
		printf("  %-14s %lld\n", "init pid",
		       (long long)json_integer_value(json_object_get(vp, "pid")));
		printf("  %-14s %.1f s\n", "uptime",
		       json_real_value(json_object_get(vp, "uptime_s")));
		print_size("memory", vp, "memory_bytes");
		print_size("memory peak", vp, "memory_peak_bytes");
		printf("  %-14s %lld of %lld\n", "tasks",
		       (long long)json_integer_value(json_object_get(vp, "pids")),
		       (long long)json_integer_value(json_object_get(vp, "pids_limit")));
		printf("  %-14s %.3f s\n", "cpu",
		       (double)json_integer_value(json_object_get(vp, "cpu_usec")) / 1e6);
		printf("  %-14s %lld\n", "oom kills",
		       (long long)json_integer_value(json_object_get(vp, "oom_kills")));
	}
	return 0;
}

static int cmd_screenshot(struct cli *cli, int argc, char **argv)
{
	_cleanup_json_ json_t *reply = NULL;
	_cleanup_close_ int fd = -1;

	if (argc != 2)
		return usage_error("screenshot wants exactly one FILE.png%s", "");
	/* The file is opened here, with the caller's rights, and handed to cellsd. */
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		cli_error("%s: %s", argv[1], strerror(errno));
		return 1;
	}
	if (cli_request(cli, json_pack("{s:s}", "cmd", "screenshot"), &fd, 1, &reply) < 0) {
		unlink(argv[1]);
		return 1;
	}
	return 0;
}

static int cmd_events(struct cli *cli, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return usage_error("events takes no argument%s", "");
	if (cli_request(cli, json_pack("{s:s}", "cmd", "events"), NULL, 0, NULL) < 0)
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		json_t *ev = NULL;
		int ret = proto_recv(cli->sock, &cli->reader, &ev);
		if (ret < 0)
			return ret == -ECONNRESET ? 0 : 1;
		json_dumpf(ev, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(ev);
	}
}

static int run(struct cli *cli, int argc, char **argv)
{
	const char *cmd = argv[0];

	if (strcmp(cmd, "image") == 0)
		return cmd_image(cli, argc, argv);
	if (strcmp(cmd, "create") == 0)
		return cmd_create(cli, argc, argv);
	if (strcmp(cmd, "config") == 0)
		return cmd_config(cli, argc, argv);
	if (!strcmp(cmd, "start") || !strcmp(cmd, "stop") || !strcmp(cmd, "destroy") ||
	    !strcmp(cmd, "switch"))
		return cmd_named(cli, argc, argv);
	if (strcmp(cmd, "list") == 0)
		return cmd_list(cli, argc, argv);
	if (!strcmp(cmd, "next") || !strcmp(cmd, "prev") || !strcmp(cmd, "active"))
		return cmd_foreground(cli, argc, argv);
	if (strcmp(cmd, "exec") == 0)
		return cmd_exec(cli, argc, argv);
	if (strcmp(cmd, "console") == 0)
		return argc == 2 ? cli_console(cli, argv[1])
				 : usage_error("console wants exactly one NAME%s", "");
	if (strcmp(cmd, "stats") == 0)
		return cmd_stats(cli, argc, argv);
	if (strcmp(cmd, "events") == 0)
		return cmd_events(cli, argc, argv);
	if (strcmp(cmd, "screenshot") == 0)
		return cmd_screenshot(cli, argc, argv);
	if (strcmp(cmd, "input") == 0)
		return cmd_input(cli, argc, argv);
	return usage_error("unknown command '%s'", cmd);
}

int main(int argc, char **argv)
{
	struct cli cli = {.run_dir = getenv("CELLS_RUN"), .sock = -1};
	int i = 1;

	if (!cli.run_dir || !cli.run_dir[0])
		cli.run_dir = "/run/cells";
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage_text, stdout);
			return 0;
		} else if (strcmp(argv[i], "--run") == 0 && i + 1 < argc) {
			cli.run_dir = argv[++i];
		} else if (strncmp(argv[i], "--run=", 6) == 0) {
			cli.run_dir = argv[i] + 6;
		} else {
			return usage_error("unknown option '%s'", argv[i]);
		}
	}
	if (i >= argc) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	/* Check the words before bothering the daemon. */
	static const char *const known[] = {"image",	  "create", "config",  "start", "stop",
					    "destroy",	  "list",   "switch",  "next",	"prev",
					    "active",	  "exec",   "console", "stats", "events",
					    "screenshot", "input"};
	bool found = false;
	for (size_t k = 0; k < ARRAY_SIZE(known); k++)
		found |= strcmp(argv[i], known[k]) == 0;
	if (!found)
		return usage_error("unknown command '%s'", argv[i]);
	if (cli_connect(&cli) < 0)
		return 1;
	return run(&cli, argc - i, argv + i);
}
