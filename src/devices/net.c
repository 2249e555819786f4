/* The virtual NIC (DESIGN.md §5, "network"): every VP with the device has eth0, one end
 * of a veth whose other end (cv<id>) stays in the host, with addresses of the pool, a
 * default route and a resolver; its traffic leaves through the uplink of its setting,
 * NAT'd there, and through no other (net_rules.c says how the table isolates VPs).
 *
 * Uplinks are `cellsd --uplink NAME=IFACE`: each has a routing table of its own (a
 * default route through IFACE, under an unreachable one that stays when IFACE goes
 * down) and a VP's packets look it up by the interface they come in on. The device is
 * off (VPs have only lo) unless cellsd is given an uplink. */
#include "common/log.h"
#include "devices/net_link.h"
#include "devices/net_nft.h"
#include "devices/net_rules.h"
#include "devns/devns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define NET_TABLE_BASE 0xce110 /* the uplinks' routing tables */
#define NET_RULE_PRIO  9000    /* a VP's rule, before the main table's (32766) */

struct net_uplink {
	struct net_uplink_spec spec;
	unsigned table;
	bool up;
};

struct net_vp;

struct net_dev {
	struct devns *core;
	bool on; /* an uplink was given */
	struct net_pool pool;
	struct net_uplink uplinks[NET_UPLINKS_MAX];
	struct net_rules_uplink rules_uplinks[NET_UPLINKS_MAX];
	unsigned nuplinks, default_uplink;
	struct nl_sock *sk, *monitor;
	struct nft_ctx *nft;
	struct loop_watch link_watch, cap_timer;
	pthread_mutex_t lock; /* the list and the kernel objects it names */
	struct net_vp *vps;
};

struct net_vp {
	struct net_dev *dev;
	struct net_vp *next;
	char name[NAME_MAX_LEN + 1];
	char host[16];	  /* cv<id> */
	char resolv[256]; /* its resolv.conf, bound at /etc/resolv.conf */
	bool attached;	  /* its veth, rules and chains exist */
	struct net_rules_vp rules;
	struct net_publish publish[NET_PUBLISH_MAX];
	uint64_t limit[NET_UPLINKS_MAX];
	bool capped[NET_UPLINKS_MAX]; /* told already */
};

static const struct vdev_option net_options[] = {
	{"uplink", "NAME=IFACE[,gw=ADDR][,gw6=ADDR6][,dns=ADDR]",
	 "a network a VP's traffic may leave by\n(repeatable; the first is the default\n"
	 "unless --default-uplink). No gw, gw6:\nthe main table's (no IPv6 gateway: no\n"
	 "IPv6 by it); no dns: the gateway\n(default: none, VPs have only lo)"},
	{"default-uplink", "NAME",
	 "the uplink of a VP that names none\n(default: the first --uplink)"},
	{"net-pool", "V4/LEN,V6/LEN", "the VPs' addresses (default\n" NET_POOL_DEFAULT ")"},
	{NULL, NULL, NULL},
};

static const struct vp_setting_kind net_settings[] = {
	{"uplink", "NAME", "the uplink its traffic leaves by (default: cellsd's)", "default"},
	{"publish", "HOSTPORT:VPPORT[/udp],...", "host ports forwarded to the VP", ""},
	{"data-limit", "UPLINK=SIZE,...", "bytes it may move through an uplink", ""},
	{NULL, NULL, NULL, NULL},
};

static int net_check_option(const char *name, const char *value, struct error *err)
{
	struct net_uplink_spec spec;
	struct net_pool pool;

	if (strcmp(name, "uplink") == 0)
		return net_uplink_parse(value, &spec, err);
	if (strcmp(name, "default-uplink") == 0)
		return net_uplink_name_ok(value) ? 0
						 : error_set(err, 0, "bad uplink name '%s'", value);
	if (strcmp(name, "net-pool") == 0)
		return net_pool_parse(value, &pool, err);
	return 0;
}

static int net_check_setting(const char *key, const char *value, struct error *err)
{
	struct net_publish pub[NET_PUBLISH_MAX];
	struct net_limit lim[NET_UPLINKS_MAX];
	unsigned n;

	if (strcmp(key, "uplink") == 0)
		return strcmp(value, "default") == 0 || net_uplink_name_ok(value)
			       ? 0
			       : error_set(err, 0, "bad uplink name '%s'", value);
	if (strcmp(key, "publish") == 0)
		return net_publish_parse(value, pub, &n, err);
	if (strcmp(key, "data-limit") == 0)
		return net_limit_parse(value, lim, &n, err);
	return 0;
}

static int find_uplink(const struct net_dev *dev, const char *name, unsigned *out,
		       struct error *err)
{
	if (strcmp(name, "default") == 0) {
		*out = dev->default_uplink;
		return 0;
	}
	for (unsigned u = 0; u < dev->nuplinks; u++)
		if (strcmp(dev->uplinks[u].spec.name, name) == 0) {
			*out = u;
			return 0;
		}
	error_set(err, 0, "no uplink '%s' (cellsd --uplink)", name);
	return -ENOENT;
}

static void emit(struct net_dev *dev, json_t *event)
{
	if (event)
		devns_emit_event(dev->core, "net", event);
}

/* The VPs on uplink U, by name; with the lock. */
static json_t *vps_on(struct net_dev *dev, unsigned u)
{
	json_t *names = json_array();

	for (struct net_vp *v = dev->vps; v && names; v = v->next)
		if (v->rules.uplink == u)
			json_array_append_new(names, json_string(v->name));
	return names;
}

static int write_sysctl(const char *path, const char *value, struct error *err)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return error_set(err, errno, "open %s", path);
	if (write(fd, value, strlen(value)) < 0)
		ret = error_set(err, errno, "write %s", path);
	close(fd);
	return ret;
}

/* IPv6 forwarding in and out of IFACE: there only where the kernel can (force_forwarding,
 * Linux 6.17), else everywhere, as IPv4's ip_forward. An interface not there yet gets it
 * when it comes up. */
static int forward6(const char *iface, struct error *err)
{
	char path[96];

	if (access("/proc/sys/net/ipv6/conf/all/force_forwarding", F_OK) < 0)
		return write_sysctl("/proc/sys/net/ipv6/conf/all/forwarding", "1", err);
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/force_forwarding", iface);
	if (access(path, F_OK) < 0)
		return 0;
	return write_sysctl(path, "1", err);
}

/* A published port reached at 127.0.0.1 on the host: the DNAT'd packet leaves by the
 * VP's host end with its loopback source (masqueraded after), and its answers come back
 * to a loopback address there; the kernel drops both unless the interface routes
 * loopback addresses. */
static int route_localnet(const char *iface, struct error *err)
{
	char path[96];

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/route_localnet", iface);
	return write_sysctl(path, "1", err);
}

static const struct in6_addr *gw6_of(const struct net_uplink *up)
{
	return up->spec.has_gw6 ? &up->spec.gw6 : NULL;
}

/* A link changed somewhere: an uplink that went down or came back is told. */
static void link_changed(struct loop_watch *w, uint32_t events)
{
	struct net_dev *dev = container_of(w, struct net_dev, link_watch);
	json_t *told = json_array();
	size_t i;
	json_t *e;

	(void)events;
	pthread_mutex_lock(&dev->lock);
	net_link_monitor_drain(dev->monitor);
	for (unsigned u = 0; u < dev->nuplinks && told; u++) {
		struct net_uplink *up = &dev->uplinks[u];
		struct error err = {{0}};
		bool now = net_link_is_up(dev->sk, up->spec.iface);
		if (now == up->up)
			continue;
		up->up = now;
		/* The kernel dropped its route with the link: back with it. */
		if (now && (net_link_uplink_table(dev->sk, up->table, up->spec.iface, up->spec.gw,
						  gw6_of(up), &err) < 0 ||
			    forward6(up->spec.iface, &err) < 0))
			log_warn("net: uplink %s: %s", up->spec.name, err.msg);
		log_info("net: uplink %s (%s) is %s", up->spec.name, up->spec.iface,
			 now ? "up" : "down");
		json_array_append_new(told, json_pack("{s:s, s:s, s:s, s:o}", "event",
						      now ? "uplink-up" : "uplink-down", "uplink",
						      up->spec.name, "iface", up->spec.iface, "vps",
						      vps_on(dev, u)));
	}
	pthread_mutex_unlock(&dev->lock);
	json_array_foreach(told, i, e) emit(dev, json_incref(e));
	json_decref(told);
}

/* Once a second: a VP past its cap on an uplink is told (the quota drops its traffic
 * already). */
static void check_caps(struct loop_watch *w, uint32_t events)
{
	struct net_dev *dev = container_of(w, struct net_dev, cap_timer);
	struct error err = {{0}};
	uint64_t ticks;
	json_t *objs, *told = json_array();
	size_t i;
	json_t *e;

	(void)events;
	if (read(w->fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		log_warn_errno(errno, "net: read the cap timer");
	pthread_mutex_lock(&dev->lock);
	objs = NULL;
	for (struct net_vp *v = dev->vps; v && !objs; v = v->next)
		for (unsigned u = 0; u < dev->nuplinks && !objs; u++)
			/* A dump of the table only when some VP has a cap not yet reached. */
			if (v->limit[u] && !v->capped[u] &&
			    !(objs = net_nft_objects(dev->nft, &err)))
				log_warn("net: %s", err.msg);
	for (struct net_vp *v = dev->vps; v && objs && told; v = v->next)
		for (unsigned u = 0; u < dev->nuplinks; u++) {
			char name[32];
			json_t *q;
			if (!v->limit[u] || v->capped[u])
				continue;
			snprintf(name, sizeof(name), "q%u_%u", v->rules.id, u);
			q = json_object_get(objs, name);
			if (!q ||
			    (uint64_t)json_integer_value(json_object_get(q, "used")) < v->limit[u])
				continue;
			v->capped[u] = true;
			json_array_append_new(told, json_pack("{s:s, s:s, s:s, s:I}", "event",
							      "data-limit", "vp", v->name, "uplink",
							      dev->uplinks[u].spec.name, "limit",
							      (json_int_t)v->limit[u]));
		}
	pthread_mutex_unlock(&dev->lock);
	json_decref(objs);
	json_array_foreach(told, i, e) emit(dev, json_incref(e));
	json_decref(told);
}

/* What a killed daemon left: veths, rules, routes (the table goes with the base's). */
static int clean_leftovers(struct net_dev *dev, struct error *err)
{
	int ret;

	if ((ret = net_link_delete_prefixed(dev->sk, NET_VETH_PREFIX, err)) < 0 ||
	    (ret = net_link_flush_rules(dev->sk, NET_RULE_PRIO, err)) < 0 ||
	    (ret = net_link_flush_rules(dev->sk, NET_RULE_PRIO - 1, err)) < 0)
		return ret;
	return net_link_flush_tables(dev->sk, NET_TABLE_BASE, NET_UPLINKS_MAX, err);
}

static void net_fini(void *global);

static int net_setup(struct net_dev *dev, const char **specs, const char *def, struct error *err)
{
	struct itimerspec second = {{1, 0}, {1, 0}};
	int ret;

	for (unsigned u = 0; u < dev->nuplinks; u++) {
		struct net_uplink *up = &dev->uplinks[u];
		if ((ret = net_uplink_parse(specs[u], &up->spec, err)) < 0)
			return ret;
		for (unsigned o = 0; o < u; o++)
			if (strcmp(dev->uplinks[o].spec.name, up->spec.name) == 0)
				return error_set(err, 0, "uplink %s given twice", up->spec.name);
		up->table = NET_TABLE_BASE + u;
	}
	if (def && (ret = find_uplink(dev, def, &dev->default_uplink, err)) < 0)
		return ret;
	if (!(dev->sk = net_link_socket(err)) || !(dev->nft = net_nft_new(err)))
		return -EIO;
	if ((ret = clean_leftovers(dev, err)) < 0)
		return ret;
	for (unsigned u = 0; u < dev->nuplinks; u++) {
		struct net_uplink *up = &dev->uplinks[u];
		if (!up->spec.gw.s_addr)
			up->spec.gw = net_link_main_gateway(dev->sk, up->spec.iface);
		if (!up->spec.dns.s_addr)
			up->spec.dns = up->spec.gw;
		if (!up->spec.has_gw6)
			up->spec.has_gw6 =
				net_link_main_gateway6(dev->sk, up->spec.iface, &up->spec.gw6);
		up->up = net_link_is_up(dev->sk, up->spec.iface);
		if (!up->up)
			log_warn("net: uplink %s: %s is not up", up->spec.name, up->spec.iface);
		if ((ret = net_link_uplink_table(dev->sk, up->table, up->spec.iface, up->spec.gw,
						 gw6_of(up), err)) < 0 ||
		    (ret = forward6(up->spec.iface, err)) < 0)
			return ret;
		dev->rules_uplinks[u] = (struct net_rules_uplink){up->spec.iface, up->spec.dns};
	}
	if ((ret = net_nft_run(dev->nft,
			       net_rules_base(&dev->pool, dev->rules_uplinks, dev->nuplinks),
			       err)) < 0)
		return ret;
	if ((ret = write_sysctl("/proc/sys/net/ipv4/ip_forward", "1", err)) < 0)
		return ret;
	if (!(dev->monitor = net_link_monitor(err)))
		return -EIO;
	dev->link_watch = (struct loop_watch){net_link_fd(dev->monitor), link_changed};
	if ((ret = devns_watch(dev->core, &dev->link_watch, EPOLLIN)) < 0) {
		dev->link_watch.fd = -1;
		return error_set(err, -ret, "net: watch links");
	}
	dev->cap_timer = (struct loop_watch){
		timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK), check_caps};
	if (dev->cap_timer.fd < 0)
		return error_set(err, errno, "net: timerfd");
	timerfd_settime(dev->cap_timer.fd, 0, &second, NULL);
	if ((ret = devns_watch(dev->core, &dev->cap_timer, EPOLLIN)) < 0) {
		close(dev->cap_timer.fd);
		dev->cap_timer.fd = -1;
		return error_set(err, -ret, "net: watch the cap timer");
	}
	return 0;
}

static int net_init(struct devns *core, void **global, struct error *err)
{
	const char *specs[NET_UPLINKS_MAX], *pool = NET_POOL_DEFAULT, *def = NULL;
	struct net_dev *dev = calloc(1, sizeof(*dev));
	unsigned n;
	int ret;

	if (!dev)
		return error_set(err, ENOMEM, "net");
	dev->core = core;
	dev->link_watch.fd = dev->cap_timer.fd = -1;
	pthread_mutex_init(&dev->lock, NULL);
	*global = dev;
	n = devns_option_values(core, "uplink", specs, NET_UPLINKS_MAX);
	if (n > NET_UPLINKS_MAX)
		return error_set(err, 0, "at most %d uplinks", NET_UPLINKS_MAX);
	devns_option_values(core, "net-pool", &pool, 1);
	devns_option_values(core, "default-uplink", &def, 1);
	if ((ret = net_pool_parse(pool, &dev->pool, err)) < 0)
		return ret;
	if (n == 0)
		return 0;
	dev->nuplinks = n;
	dev->on = true;
	if ((ret = net_setup(dev, specs, def, err)) < 0) {
		struct error inner = *err;
		net_fini(dev);
		*global = NULL;
		error_set(err, 0, "net: %s", inner.msg);
		return ret;
	}
	return 0;
}

static void net_fini(void *global)
{
	struct net_dev *dev = global;
	struct error err = {{0}};

	if (dev->link_watch.fd >= 0)
		devns_unwatch(dev->core, &dev->link_watch);
	if (dev->cap_timer.fd >= 0) {
		devns_unwatch(dev->core, &dev->cap_timer);
		close(dev->cap_timer.fd);
	}
	if (dev->on && dev->sk) {
		if (dev->nft && net_nft_run(dev->nft, net_rules_drop(), &err) < 0)
			log_warn("net: %s", err.msg);
		if (clean_leftovers(dev, &err) < 0)
			log_warn("net: %s", err.msg);
	}
	net_link_socket_free(dev->monitor);
	net_link_socket_free(dev->sk);
	net_nft_free(dev->nft);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
}

/* The VP's settings into V (the uplink resolved). */
static int read_settings(struct net_dev *dev, struct net_vp *v, const struct vdev_vp *vp,
			 struct error *err)
{
	struct net_limit lim[NET_UPLINKS_MAX];
	const char *uplink = vdev_setting(vp, "uplink"), *publish = vdev_setting(vp, "publish"),
		   *limit = vdev_setting(vp, "data-limit");
	unsigned n, u;
	int ret;

	if ((ret = find_uplink(dev, uplink ? uplink : "default", &v->rules.uplink, err)) < 0 ||
	    (ret = net_publish_parse(publish ? publish : "", v->publish, &v->rules.npublish, err)) <
		    0 ||
	    (ret = net_limit_parse(limit ? limit : "", lim, &n, err)) < 0)
		return ret;
	for (unsigned i = 0; i < n; i++) {
		if ((ret = find_uplink(dev, lim[i].uplink, &u, err)) < 0)
			return ret;
		v->limit[u] = lim[i].bytes;
	}
	return 0;
}

static int net_prepare(void *global, const struct vdev_vp *vp, void **state,
		       struct vdev_file *files, unsigned *nfiles, struct error *err)
{
	struct net_dev *dev = global;
	struct net_vp *v;
	char host4[INET_ADDRSTRLEN], text[64];
	int fd, ret;

	*nfiles = 0;
	if (!(v = calloc(1, sizeof(*v))))
		return error_set(err, ENOMEM, "net");
	v->dev = dev;
	*state = v;
	if (!dev->on)
		return 0;
	snprintf(v->name, sizeof(v->name), "%s", vp->name);
	snprintf(v->host, sizeof(v->host), NET_VETH_PREFIX "%u", vp->id);
	v->rules.id = vp->id;
	v->rules.publish = v->publish;
	v->rules.limit = v->limit;
	if ((ret = net_pool_addrs(&dev->pool, vp->id, &v->rules.addrs, err)) < 0 ||
	    (ret = read_settings(dev, v, vp, err)) < 0)
		goto fail;
	/* Its resolver is its gateway, whose port 53 leads to its uplink's. */
	inet_ntop(AF_INET, &v->rules.addrs.host4, host4, sizeof(host4));
	snprintf(v->resolv, sizeof(v->resolv), "%s/resolv.conf", vp->dir);
	snprintf(text, sizeof(text), "nameserver %s\n", host4);
	fd = open(v->resolv, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = error_set(err, errno, "create %s", v->resolv);
		goto fail;
	}
	if (write(fd, text, strlen(text)) < 0)
		ret = error_set(err, errno, "write %s", v->resolv);
	close(fd);
	if (ret < 0)
		goto fail;
	snprintf(files[0].vp_path, sizeof(files[0].vp_path), "/etc/resolv.conf");
	snprintf(files[0].host_path, sizeof(files[0].host_path), "%s", v->resolv);
	*nfiles = 1;
	return 0;
fail:
	if (v->resolv[0])
		unlink(v->resolv);
	free(v);
	*state = NULL;
	return ret;
}

/* The publish chain for every attached VP; with the lock. */
static int republish(struct net_dev *dev, struct error *err)
{
	struct net_rules_vp vps[64];
	unsigned n = 0;

	for (struct net_vp *v = dev->vps; v; v = v->next)
		if (v->rules.npublish && n < sizeof(vps) / sizeof(vps[0]))
			vps[n++] = v->rules;
	return net_nft_run(dev->nft, net_rules_publish(vps, n), err);
}

/* Its netns, from its init's pid, checked against the pidfd (a pid may be reused). */
static int open_netns(const struct vdev_started *vp, struct error *err)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", vp->pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return error_set(err, errno, "open %s", path);
	if (syscall(SYS_pidfd_send_signal, vp->pidfd, 0, NULL, 0) < 0) {
		close(fd);
		return error_set(err, errno, "the VP's init is gone");
	}
	return fd;
}

static int net_attach(void *global, void *state, const struct vdev_started *started,
		      struct error *err)
{
	struct net_dev *dev = global;
	struct net_vp *v = state;
	struct error ignored;
	int netns, ret;

	if (!dev->on)
		return 0;
	if ((netns = open_netns(started, err)) < 0)
		return netns;
	pthread_mutex_lock(&dev->lock);
	ret = net_link_vp_create(dev->sk, v->host, netns, &v->rules.addrs, err);
	close(netns);
	if (ret < 0)
		goto out;
	if ((ret = forward6(v->host, err)) < 0 || (ret = route_localnet(v->host, err)) < 0)
		goto undo_link;
	if ((ret = net_nft_run(dev->nft,
			       net_rules_vp_add(&v->rules, dev->rules_uplinks, dev->nuplinks),
			       err)) < 0)
		goto undo_link;
	if ((ret = net_link_rule(dev->sk, true, v->host, dev->uplinks[v->rules.uplink].table,
				 NET_RULE_PRIO, err)) < 0)
		goto undo_nft;
	v->next = dev->vps;
	dev->vps = v;
	v->attached = true;
	if ((ret = republish(dev, err)) < 0) {
		dev->vps = v->next;
		v->attached = false;
		net_link_rule(dev->sk, false, v->host, dev->uplinks[v->rules.uplink].table,
			      NET_RULE_PRIO, &ignored);
		goto undo_nft;
	}
	goto out;
undo_nft:
	net_nft_run(dev->nft, net_rules_vp_del(&v->rules, dev->nuplinks), &ignored);
undo_link:
	net_link_delete(dev->sk, v->host, &ignored);
out:
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

static void net_teardown(void *global, void *state)
{
	struct net_dev *dev = global;
	struct net_vp *v = state;
	struct error err = {{0}};

	if (!v)
		return;
	pthread_mutex_lock(&dev->lock);
	if (v->attached) {
		for (struct net_vp **p = &dev->vps; *p; p = &(*p)->next)
			if (*p == v) {
				*p = v->next;
				break;
			}
		if (republish(dev, &err) < 0 ||
		    net_nft_run(dev->nft, net_rules_vp_del(&v->rules, dev->nuplinks), &err) < 0)
			log_warn("net: VP %s: %s", v->name, err.msg);
		/* (and the switch's stepping stone, had a switch failed half-way) */
		net_link_rule(dev->sk, false, v->host, dev->uplinks[v->rules.uplink].table,
			      NET_RULE_PRIO - 1, &err);
		if (net_link_rule(dev->sk, false, v->host, dev->uplinks[v->rules.uplink].table,
				  NET_RULE_PRIO, &err) < 0 ||
		    net_link_delete(dev->sk, v->host, &err) < 0 ||
		    net_link_conntrack_flush(&v->rules.addrs, &err) < 0)
			log_warn("net: VP %s: %s", v->name, err.msg);
	}
	pthread_mutex_unlock(&dev->lock);
	if (v->resolv[0])
		unlink(v->resolv);
	free(v);
}

/* A running VP's new uplink: its rule and chains, and its connections dropped (they were
 * NAT'd to the old uplink's address). */
static int switch_uplink(struct net_dev *dev, struct net_vp *v, unsigned to, struct error *err)
{
	unsigned from = v->rules.uplink;
	struct error ignored;
	int ret;

	if (to == from)
		return 0;
	if ((ret = net_link_rule(dev->sk, true, v->host, dev->uplinks[to].table, NET_RULE_PRIO - 1,
				 err)) < 0)
		return ret;
	v->rules.uplink = to;
	if ((ret = net_nft_run(dev->nft,
			       net_rules_vp_update(&v->rules, dev->rules_uplinks, dev->nuplinks),
			       err)) < 0) {
		v->rules.uplink = from;
		net_link_rule(dev->sk, false, v->host, dev->uplinks[to].table, NET_RULE_PRIO - 1,
			      &ignored);
		return ret;
	}
	/* The new rule went in first, one step ahead: no moment without one. */
	net_link_rule(dev->sk, false, v->host, dev->uplinks[from].table, NET_RULE_PRIO, &ignored);
	if ((ret = net_link_rule(dev->sk, true, v->host, dev->uplinks[to].table, NET_RULE_PRIO,
				 err)) < 0)
		return ret;
	net_link_rule(dev->sk, false, v->host, dev->uplinks[to].table, NET_RULE_PRIO - 1, &ignored);
	return net_link_conntrack_flush(&v->rules.addrs, err);
}

/* A running VP's new caps: what it used on each uplink is kept (a cap raised past it
 * lets its traffic through again, and may be told again). With the lock. */
static int set_limits(struct net_dev *dev, struct net_vp *v, const char *value, struct error *err)
{
	struct net_limit lim[NET_UPLINKS_MAX];
	uint64_t old[NET_UPLINKS_MAX], used[NET_UPLINKS_MAX] = {0};
	json_t *objs = NULL;
	unsigned n, u;
	int ret;

	if ((ret = net_limit_parse(value, lim, &n, err)) < 0)
		return ret;
	for (unsigned i = 0; i < n; i++)
		if ((ret = find_uplink(dev, lim[i].uplink, &u, err)) < 0)
			return ret;
	memcpy(old, v->limit, sizeof(old));
	if (v->attached && !(objs = net_nft_objects(dev->nft, err)))
		return -EIO;
	memset(v->limit, 0, sizeof(v->limit));
	for (unsigned i = 0; i < n; i++) {
		find_uplink(dev, lim[i].uplink, &u, err);
		v->limit[u] = lim[i].bytes;
	}
	for (u = 0; u < dev->nuplinks; u++) {
		char name[32];
		snprintf(name, sizeof(name), "q%u_%u", v->rules.id, u);
		used[u] = (uint64_t)json_integer_value(
			json_object_get(json_object_get(objs, name), "used"));
		if (v->limit[u] != old[u])
			v->capped[u] = false;
	}
	json_decref(objs);
	if (v->attached &&
	    (ret = net_nft_run(
		     dev->nft,
		     net_rules_vp_limits(&v->rules, old, used, dev->rules_uplinks, dev->nuplinks),
		     err)) < 0) {
		memcpy(v->limit, old, sizeof(old));
		return ret;
	}
	return 0;
}

static int net_configure(void *global, void *state, const char *key, const char *value,
			 struct error *err)
{
	struct net_dev *dev = global;
	struct net_vp *v = state;
	struct net_publish pub[NET_PUBLISH_MAX];
	unsigned u, n;
	int ret = 0;

	if (!dev->on)
		return 0;
	pthread_mutex_lock(&dev->lock);
	if (strcmp(key, "data-limit") == 0) {
		ret = set_limits(dev, v, value, err);
	} else if (strcmp(key, "uplink") == 0) {
		if ((ret = find_uplink(dev, value, &u, err)) == 0)
			ret = v->attached ? switch_uplink(dev, v, u, err)
					  : (v->rules.uplink = u, 0);
	} else if (strcmp(key, "publish") == 0) {
		if ((ret = net_publish_parse(value, pub, &n, err)) == 0) {
			struct net_publish old[NET_PUBLISH_MAX];
			unsigned nold = v->rules.npublish;
			memcpy(old, v->publish, sizeof(old));
			memcpy(v->publish, pub, sizeof(pub));
			v->rules.npublish = n;
			if (v->attached && (ret = republish(dev, err)) < 0) {
				memcpy(v->publish, old, sizeof(old));
				v->rules.npublish = nold;
			}
		}
	}
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

/* V's bytes and packets in and out per uplink, and its caps, from OBJS (the table's
 * counters and quotas); with the lock. */
static json_t *vp_counters(struct net_dev *dev, struct net_vp *v, json_t *objs)
{
	json_t *per = json_object();

	for (unsigned u = 0; u < dev->nuplinks && per; u++) {
		char name[32];
		json_t *one = json_object(), *o;
		snprintf(name, sizeof(name), "c%u_%u_out", v->rules.id, u);
		o = json_object_get(objs, name);
		json_object_set(one, "bytes_out", json_object_get(o, "bytes"));
		json_object_set(one, "packets_out", json_object_get(o, "packets"));
		snprintf(name, sizeof(name), "c%u_%u_in", v->rules.id, u);
		o = json_object_get(objs, name);
		json_object_set(one, "bytes_in", json_object_get(o, "bytes"));
		json_object_set(one, "packets_in", json_object_get(o, "packets"));
		if (v->limit[u]) {
			snprintf(name, sizeof(name), "q%u_%u", v->rules.id, u);
			o = json_object_get(objs, name);
			json_object_set_new(one, "limit", json_integer((json_int_t)v->limit[u]));
			json_object_set(one, "used", json_object_get(o, "used"));
			/* (from the quota itself: the event's timer may not have seen it yet) */
			json_object_set_new(
				one, "capped",
				json_boolean((uint64_t)json_integer_value(
						     json_object_get(o, "used")) >= v->limit[u]));
		}
		json_object_set_new(one, "current", json_boolean(u == v->rules.uplink));
		json_object_set_new(per, dev->uplinks[u].spec.name, one);
	}
	return per;
}

/* Every VP's counters, by name. */
static void net_stats(void *global, json_t *stats)
{
	struct net_dev *dev = global;
	struct error err = {{0}};
	json_t *objs, *net = json_object();

	if (!dev->on || !net)
		goto out;
	pthread_mutex_lock(&dev->lock);
	objs = net_nft_objects(dev->nft, &err);
	for (struct net_vp *v = dev->vps; v && objs; v = v->next)
		json_object_set_new(net, v->name, vp_counters(dev, v, objs));
	pthread_mutex_unlock(&dev->lock);
	if (!objs)
		log_warn("net: %s", err.msg);
	json_decref(objs);
out:
	json_object_set_new(stats, "net", net);
}

/* The VP's own: `cell stats NAME`. */
static void net_vp_stats(void *global, void *state, json_t *stats)
{
	struct net_dev *dev = global;
	struct net_vp *v = state;
	struct error err = {{0}};
	json_t *objs;

	if (!dev->on)
		return;
	pthread_mutex_lock(&dev->lock);
	if (v->attached) {
		if ((objs = net_nft_objects(dev->nft, &err)))
			json_object_set_new(stats, "net", vp_counters(dev, v, objs));
		else
			log_warn("net: VP %s: %s", v->name, err.msg);
		json_decref(objs);
	}
	pthread_mutex_unlock(&dev->lock);
}

const struct vdev_ops vdev_net = {
	.name = "net",
	.initial_access = DEV_SHARED,
	.init = net_init,
	.fini = net_fini,
	.prepare = net_prepare,
	.attach = net_attach,
	.teardown = net_teardown,
	.configure = net_configure,
	.stats = net_stats,
	.vp_stats = net_vp_stats,
	.options = net_options,
	.check_option = net_check_option,
	.settings = net_settings,
	.check_setting = net_check_setting,
};
