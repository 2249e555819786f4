/* A VP's saved Wi-Fi networks (wifi_store.h). */
#include "devices/wifi_store.h"
#include "common/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

_Static_assert(WIFI_MAX_VARS >= 23, "WIFI_MAX_VARS below the variables' list");

void wifi_store_init(struct wifi_store *st)
{
	memset(st, 0, sizeof(*st));
}

struct wifi_net *wifi_store_find(struct wifi_store *st, int id)
{
	for (unsigned i = 0; i < st->n; i++)
		if (st->nets[i].id == id)
			return &st->nets[i];
	return NULL;
}

int wifi_store_add(struct wifi_store *st)
{
	struct wifi_net *net;

	if (st->n >= WIFI_MAX_NETWORKS || st->next_id > WIFI_NET_ID_MAX)
		return -ENOSPC;
	net = &st->nets[st->n++];
	memset(net, 0, sizeof(*net));
	net->id = st->next_id++;
	net->disabled = true;
	return net->id;
}

const char *wifi_net_get(const struct wifi_net *net, const char *var)
{
	for (unsigned i = 0; i < net->nvars; i++)
		if (strcmp(net->vars[i].name, var) == 0)
			return net->vars[i].value;
	return NULL;
}

int wifi_store_set(struct wifi_store *st, int id, const char *var, const char *value)
{
	struct wifi_net *net = wifi_store_find(st, id);
	unsigned i;

	if (!net)
		return -ENOENT;
	if (!wifi_var_check(var, value))
		return -EINVAL;
	for (i = 0; i < net->nvars; i++)
		if (strcmp(net->vars[i].name, var) == 0)
			break;
	if (i == net->nvars) {
		if (net->nvars >= WIFI_MAX_VARS) /* cannot be: each name is checked, once */
			return -ENOSPC;
		net->nvars++;
	}
	snprintf(net->vars[i].name, sizeof(net->vars[i].name), "%s", var);
	snprintf(net->vars[i].value, sizeof(net->vars[i].value), "%s", value);
	return 0;
}

int wifi_store_get(const struct wifi_store *st, int id, const char *var, char *out, size_t size)
{
	const char *value = NULL;

	for (unsigned i = 0; i < st->n; i++)
		if (st->nets[i].id == id)
			value = wifi_net_get(&st->nets[i], var);
	if (!value)
		return -ENOENT;
	return snprintf(out, size, "%s", wifi_var_secret(var) ? "*" : value);
}

int wifi_store_remove(struct wifi_store *st, int id)
{
	unsigned kept = 0;
	bool found = false;

	for (unsigned i = 0; i < st->n; i++) {
		if (id == WIFI_ID_ALL || st->nets[i].id == id) {
			found = true;
			continue;
		}
		if (kept != i)
			st->nets[kept] = st->nets[i];
		kept++;
	}
	st->n = kept;
	return found || id == WIFI_ID_ALL ? 0 : -ENOENT;
}

int wifi_store_enable(struct wifi_store *st, int id, bool enable)
{
	struct wifi_net *net;

	if (id == WIFI_ID_ALL) {
		for (unsigned i = 0; i < st->n; i++)
			st->nets[i].disabled = !enable;
		return 0;
	}
	if (!(net = wifi_store_find(st, id)))
		return -ENOENT;
	net->disabled = !enable;
	return 0;
}

int wifi_store_select(struct wifi_store *st, int id)
{
	if (id != WIFI_ID_ALL && !wifi_store_find(st, id))
		return -ENOENT;
	for (unsigned i = 0; i < st->n; i++)
		st->nets[i].disabled = id != WIFI_ID_ALL && st->nets[i].id != id;
	return 0;
}

/* What LIST_NETWORKS shows of an SSID: the text between the quotes, or the hex. */
static void ssid_text(const struct wifi_net *net, char *out, size_t size)
{
	const char *ssid = wifi_net_get(net, "ssid");
	size_t len;

	if (!ssid) {
		out[0] = '\0';
		return;
	}
	len = strlen(ssid);
	if (ssid[0] == '"' && len >= 2)
		snprintf(out, size, "%.*s", (int)(len - 2), ssid + 1);
	else
		snprintf(out, size, "%s", ssid);
}

size_t wifi_store_list(const struct wifi_store *st, int current, char *out, size_t size)
{
	size_t len = 0;
	int n;

	if (size == 0)
		return 0;
	out[0] = '\0';
	n = snprintf(out, size, "network id / ssid / bssid / flags\n");
	len = n > 0 ? (size_t)n : 0;
	for (unsigned i = 0; i < st->n && len < size; i++) {
		const struct wifi_net *net = &st->nets[i];
		const char *bssid = wifi_net_get(net, "bssid");
		char ssid[WIFI_VALUE_MAX + 1];

		ssid_text(net, ssid, sizeof(ssid));
		n = snprintf(out + len, size - len, "%d\t%s\t%s\t%s%s\n", net->id, ssid,
			     bssid ? bssid : "any", net->id == current ? "[CURRENT]" : "",
			     net->disabled ? "[DISABLED]" : "");
		if (n < 0)
			break;
		len += (size_t)n;
	}
	return len < size ? len : size - 1;
}

int wifi_store_save(const struct wifi_store *st, const char *path, struct error *err)
{
	_cleanup_json_ json_t *root = json_object(), *nets = json_array();
	char tmp[4096];
	int fd, ret = 0;

	if (!root || !nets)
		return error_set(err, ENOMEM, "wifi: networks");
	for (unsigned i = 0; i < st->n; i++) {
		json_t *vars = json_object();
		for (unsigned v = 0; vars && v < st->nets[i].nvars; v++)
			json_object_set_new(vars, st->nets[i].vars[v].name,
					    json_string(st->nets[i].vars[v].value));
		json_array_append_new(nets,
				      json_pack("{s:i, s:b, s:o*}", "id", st->nets[i].id,
						"disabled", st->nets[i].disabled, "vars", vars));
	}
	json_object_set(root, "networks", nets);
	json_object_set_new(root, "next_id", json_integer(st->next_id));
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return error_set(err, ENAMETOOLONG, "wifi: %s", path);
	/* The file holds the VP's secrets: the daemon's alone. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return error_set(err, errno, "wifi: create %s", tmp);
	if (json_dumpfd(root, fd, JSON_COMPACT) < 0)
		ret = error_set(err, EIO, "wifi: write %s", tmp);
	else if (fsync(fd) < 0)
		ret = error_set(err, errno, "wifi: sync %s", tmp);
	close(fd);
	if (ret == 0 && rename(tmp, path) < 0)
		ret = error_set(err, errno, "wifi: rename %s", tmp);
	if (ret < 0)
		unlink(tmp);
	return ret;
}

static int load_net(struct wifi_store *st, json_t *jnet, struct error *err)
{
	json_t *jid = json_object_get(jnet, "id"), *vars = json_object_get(jnet, "vars"), *value;
	json_t *disabled = json_object_get(jnet, "disabled");
	struct wifi_net *net;
	const char *name;

	if (!json_is_integer(jid) || json_integer_value(jid) < 0 ||
	    json_integer_value(jid) > WIFI_NET_ID_MAX || !json_is_boolean(disabled) ||
	    (vars && !json_is_object(vars)) || st->n >= WIFI_MAX_NETWORKS ||
	    wifi_store_find(st, (int)json_integer_value(jid)))
		return error_set(err, EINVAL, "wifi: a bad network");
	net = &st->nets[st->n++];
	memset(net, 0, sizeof(*net));
	net->id = (int)json_integer_value(jid);
	net->disabled = json_is_true(disabled);
	json_object_foreach(vars, name, value)
	{
		if (!json_is_string(value) || strlen(name) >= WIFI_VAR_MAX ||
		    wifi_store_set(st, net->id, name, json_string_value(value)) < 0)
			return error_set(err, EINVAL, "wifi: a bad value of network %d", net->id);
	}
	if (net->id >= st->next_id)
		st->next_id = net->id + 1;
	return 0;
}

int wifi_store_load(struct wifi_store *st, const char *path, struct error *err)
{
	_cleanup_json_ json_t *root = NULL;
	json_error_t jerr;
	json_t *nets, *next, *jnet;
	size_t i;
	int ret;

	wifi_store_init(st);
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (access(path, F_OK) < 0 && errno == ENOENT)
			return 0;
		return error_set(err, EINVAL, "wifi: read %s: %s", path, jerr.text);
	}
	nets = json_object_get(root, "networks");
	next = json_object_get(root, "next_id");
	if (!json_is_array(nets) || !json_is_integer(next) || json_integer_value(next) < 0 ||
	    json_integer_value(next) > WIFI_NET_ID_MAX + 1)
		return error_set(err, EINVAL, "wifi: %s is not a list of networks", path);
	json_array_foreach(nets, i, jnet)
	{
		if ((ret = load_net(st, jnet, err)) < 0) {
			wifi_store_init(st);
			return ret;
		}
	}
	if (json_integer_value(next) > st->next_id)
		st->next_id = (int)json_integer_value(next);
	return 0;
}
