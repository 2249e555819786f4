/* The help of `cell`: every verb, its synopsis and what it does, in one table. */
#include "cli/help.h"

#include <string.h>

static const struct verb_help verbs[] = {
	{"image", "image build [NAME] | image list | image import NAME DIR|TARBALL | image rm NAME",
	 "Build, list, import and remove base images.\n"
	 "build runs the recipe NAME (default minimal) into STATE/images/NAME; list shows the\n"
	 "images and how many VPs use each; import makes an image of any root file system, a\n"
	 "directory or a tarball; rm removes an image that no VP, running or not, uses."},
	{"create",
	 "create NAME [--image I] [--device DEV=none|shared|exclusive]... [--memory SIZE]\n"
	 "[--disk SIZE] [--pids N] [--cpu PERCENT] [--restart always|unless-stopped|no]\n"
	 "[--autostart] [--KEY VALUE]...",
	 "Create a VP (stopped) from an image.\n"
	 "  --image I          its base image (default minimal)\n"
	 "  --device DEV=RIGHT a device's right: none, shared or exclusive (repeatable)\n"
	 "  --memory SIZE      memory limit, like 512M or 2G (default 2G; max: none)\n"
	 "  --disk SIZE        its disk: the most its files may take, like 4G (default\n"
	 "                     8G, a sparse image; none: a plain directory, no limit)\n"
	 "  --pids N           the most tasks it may run (default 4096; max: no limit)\n"
	 "  --cpu PERCENT      the most CPU it may use, 100 = one CPU (0: no limit)\n"
	 "  --restart POLICY   always, unless-stopped (default) or no: whether it runs again\n"
	 "                     when cellsd starts after a stop or a crash\n"
	 "  --autostart        the same as --restart always\n"
	 "  --KEY VALUE        a setting of one of cellsd's devices (`cell device` lists\n"
	 "                     them, with their values for a new VP)"},
	{"config",
	 "config NAME [--memory SIZE] [--disk SIZE] [--pids N] [--cpu PERCENT]\n"
	 "[--restart always|unless-stopped|no] [--device DEV=none|shared|exclusive]...\n"
	 "[--image I] [--KEY VALUE]... [--json]",
	 "Print or change a VP's config.\n"
	 "Without options it prints the config (--json: as JSON). The options are those of\n"
	 "create. A running VP takes new --memory, --pids, --cpu and --restart at once; its\n"
	 "--image, --device and --disk change only while it is stopped. A disk grows (at\n"
	 "the next start), never shrinks; a VP without an image (--disk none, or made\n"
	 "before disks had quotas) gets one, with its files, from --disk SIZE. A device's\n"
	 "--KEY VALUE (`cell device` lists them) applies at once where the device takes\n"
	 "it live, else while the VP is stopped."},
	{"start", "start NAME", "Start a stopped VP."},
	{"stop", "stop NAME [--timeout S]",
	 "Stop a running VP: SIGTERM to its init, SIGKILL to all after the grace period.\n"
	 "  --timeout S        the grace period in seconds, 0..3600 (default cellsd's\n"
	 "                     --stop-timeout)"},
	{"destroy", "destroy NAME [--force]",
	 "Remove a VP: its config, its files and its log.\n"
	 "  --force            kill it first if it runs"},
	{"list", "list [--json]",
	 "List the VPs: name, id, state, image, init pid, foreground, note.\n"
	 "The note says how the VP's rc ended (\"rc exited 127\") if it did.\n"
	 "  --json             the list as JSON"},
	{"switch", "switch NAME", "Bring a running VP to the foreground (screen and input)."},
	{"next", "next", "Bring the next running VP to the foreground."},
	{"prev", "prev", "Bring the previous running VP to the foreground."},
	{"active", "active", "Print the name of the foreground VP."},
	{"exec", "exec [-t] NAME -- CMD [ARG]...",
	 "Run a command inside a running VP; its exit status is cell's.\n"
	 "  -t                 on a new pseudo-terminal sized like the caller's, with job\n"
	 "                     control (without: the caller's stdin, stdout and stderr)"},
	{"console", "console NAME", "Attach to the VP's console; Ctrl-] leaves."},
	{"logs", "logs NAME [-f]",
	 "Print the VP's console output, of this run or, stopped, of its last run.\n"
	 "The log keeps the last 1 to 2 MiB; what is shown while `cell console` holds the\n"
	 "console is not in it.\n"
	 "  -f, --follow       then print new output until Ctrl-C or the VP stops"},
	{"stats", "stats [NAME] [--json]",
	 "Resource use: the daemon's counters and each VP's (or NAME's).\n"
	 "  --json             as JSON"},
	{"viewer", "viewer [--json]",
	 "Show where to see the phone: sockets, addresses, the VNC password, the token.\n"
	 "The viewer's local sockets and TCP addresses, the VNC password and the web\n"
	 "page's URL with its token (root only).\n"
	 "  --json             as JSON"},
	{"events", "events", "Stream events (VP states, switches, images) as JSON lines."},
	{"screenshot", "screenshot FILE.png", "Write what the screen shows now to FILE.png."},
	{"input", "input tap X Y | swipe X1 Y1 X2 Y2 [MS] | key CHORD | text STRING",
	 "Touch or type into the foreground VP.\n"
	 "tap touches the point X Y; swipe drags from X1 Y1 to X2 Y2 in MS milliseconds;\n"
	 "key presses a key or a chord (enter, a, ctrl+alt+right); text types STRING, shift\n"
	 "included."},
	{"device", "device [DEVICE VERB [ARG]...]",
	 "List cellsd's devices, or run a command of one of them.\n"
	 "Without arguments: each device, the right a new VP gets, its settings (the\n"
	 "--KEY VALUE of create and config) and its commands. With DEVICE VERB: that\n"
	 "device's command, like `cell device vt show NAME`."},
	{"help", "help [VERB]", "Print the help of every verb, or of VERB."},
};

const struct verb_help *help_find(const char *name)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

/* The synopsis, its continuation lines indented under the first. */
static void print_synopsis(FILE *out, const char *prefix, const char *synopsis)
{
	size_t indent = strlen(prefix) + strlen("cell ");
	const char *p = synopsis;

	fprintf(out, "%scell ", prefix);
	for (;;) {
		const char *nl = strchr(p, '\n');
		fprintf(out, "%.*s\n", (int)(nl ? nl - p : (long)strlen(p)), p);
		if (!nl)
			break;
		p = nl + 1;
		fprintf(out, "%*s", (int)indent, "");
	}
}

void help_print_all(FILE *out)
{
	fputs("usage: cell [--run DIR] COMMAND [ARG]...\n"
	      "       cell help [COMMAND] | cell COMMAND --help | cell --version\n\n",
	      out);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		const char *d = verbs[i].description;
		print_synopsis(out, "  ", verbs[i].synopsis);
		fprintf(out, "      %.*s\n", (int)strcspn(d, "\n"), d);
	}
	fputs("\nThe daemon is found in --run DIR (anywhere on the line), $CELLS_RUN or "
	      "/run/cells.\n"
	      "Errors are one line on stderr; a usage error exits with 2.\n",
	      out);
}

void help_print_verb(FILE *out, const struct verb_help *v)
{
	print_synopsis(out, "usage: ", v->synopsis);
	fprintf(out, "\n%s\n", v->description);
}
