// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Tandem's kernel fast path for pass-through RTP streams (tc ingress, sched_cls).
 *
 * A UDP packet whose destination (local address, port) is a key of `kfwd_rules` belongs to a
 * stream the relay handed to the kernel. If it is plain steady-state RTP from the expected
 * source and SSRC, the program rewrites it into the packet the relay's userspace path would
 * have sent (source = the relay's output address:port, destination = the peer, SSRC, sequence
 * number and timestamp shifted by the stream's offsets, payload type, optionally the payload
 * transcoded between mu-law and A-law by table) and redirects it: out of the egress interface
 * found by a FIB lookup, or into the local stack when the peer is on this host. Everything
 * else (RTCP, RFC 4733 events, another payload type or SSRC, a sequence or timestamp
 * discontinuity, CSRCs, header extensions, padding, IP options, fragments, no route) goes up
 * to the relay's socket unchanged, counted by reason. Under a strict source check a
 * stranger's packet is dropped here, counted.
 *
 * The layouts below are mirrored by kfwd/src/layout.rs; the static asserts here and the
 * compile-time asserts there pin every offset.
 *
 * Dual licensed so that the kernel accepts it as GPL-compatible (bpf_fib_lookup is GPL-only)
 * while the project's MIT option still applies.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <stddef.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define AF_INET 2
#define LOOPBACK_IFINDEX 1
/* Longest payload the table transcoder handles (30 ms of G.711). */
#define MAX_TRANSCODE 240
#define RTP_HLEN 12
/* The TTL a packet leaves with, as if the relay had sent it from a socket. */
#define OUT_TTL 64
#define IP_DF 0x4000
#define IP_MF 0x2000
#define IP_OFFMASK 0x1fff

/* kfwd_rule.flags */
#define RULE_STRICT_SOURCE (1u << 0) /* wrong source: drop (else pass up) */
#define RULE_CHECK_SSRC (1u << 1)    /* another SSRC: pass up */
#define RULE_LOCAL_PEER (1u << 2)    /* userspace's route lookup: the peer is on this host */
#define RULE_REINJECT_LOCAL (1u << 3) /* loopback accepts local sources (accept_local=1) */

/* kfwd_rule.transcode */
#define TRANSCODE_NONE 0
#define TRANSCODE_ULAW_TO_ALAW 1
#define TRANSCODE_ALAW_TO_ULAW 2

/* kfwd_stats.state */
#define STATE_SRC (1u << 0)     /* src_* hold the source stream's position */
#define STATE_OUT (1u << 1)     /* out_last_* hold the output stream's position */
#define STATE_TRANSIT (1u << 2) /* last_transit holds the last jitter transit */

/* Why a packet of a stream was dropped in the kernel. */
enum kfwd_drop {
    DROP_WRONG_SOURCE = 0,
    DROP_MAX = 2,
};

/* Why a packet of a stream was passed up to userspace unchanged. */
enum kfwd_pass {
    PASS_RTCP = 0,
    PASS_TELEPHONE_EVENT = 1,
    PASS_OTHER_PAYLOAD_TYPE = 2,
    PASS_SSRC = 3,
    PASS_DISCONTINUITY = 4,
    PASS_UNSUPPORTED_HEADER = 5,
    PASS_TOO_LONG = 6,
    PASS_MALFORMED = 7,
    PASS_WRONG_SOURCE = 8,
    PASS_NO_ROUTE = 9,
    PASS_FRAGMENT = 10,
    PASS_LOCAL_PEER = 11,
    PASS_MAX = 12,
};

/* Global (per-CPU) counters not tied to a stream. */
enum kfwd_global {
    GLOBAL_MATCHED = 0,     /* packets whose destination matched a rule */
    GLOBAL_STALE = 1,       /* rule and stats slot disagreed (slot being reused): passed up */
    GLOBAL_REDIRECTED = 2,  /* forwarded by redirect to another interface */
    GLOBAL_LOCAL = 3,       /* forwarded into the local stack */
    GLOBAL_MAX = 4,
};

struct kfwd_key {
    __u32 addr; /* local IPv4 address, network order */
    __u16 port; /* local UDP port, network order */
    __u16 pad;
};

struct kfwd_rule {
    __u32 src_addr;      /* expected source address, network order */
    __u16 src_port;      /* expected source port, network order */
    __u8 pt_in;          /* the stream's audio payload type */
    __u8 pt_out;         /* payload type written */
    __u32 src_ssrc;      /* expected source SSRC (RULE_CHECK_SSRC) */
    __u32 out_ssrc;      /* SSRC written */
    __u32 out_saddr;     /* new source address, network order */
    __u32 out_daddr;     /* new destination address, network order */
    __u16 out_sport;     /* new source port, network order */
    __u16 out_dport;     /* new destination port, network order */
    __u32 ts_off;        /* added to the timestamp */
    __u16 seq_off;       /* added to the sequence number */
    __u8 transcode;      /* TRANSCODE_* */
    __u8 event_pt;       /* RFC 4733 payload type (counted), 0xff for none */
    __u32 flags;         /* RULE_* */
    __u32 slot;          /* index into kfwd_stats */
    __u32 gen;           /* must equal kfwd_stats[slot].gen */
    __u16 samples_per_packet;
    __u16 max_dropout;   /* sequence jump ahead beyond which a packet is a discontinuity */
    __u16 max_misorder;  /* sequence jump back beyond which a packet is a discontinuity */
    __u16 pad;
    __u32 max_ts_jump;   /* timestamp disagreement (samples) that is a discontinuity */
    __u32 egress_ifindex; /* userspace's route lookup: the interface towards the peer */
};

struct kfwd_stats {
    __u32 gen;
    __u32 state;          /* STATE_* */
    __u64 packets;        /* forwarded */
    __u64 octets;         /* RTP payload octets forwarded */
    __u64 last_seen_ns;   /* bpf_ktime_get_ns() of the last forwarded packet */
    __u64 out_last_ns;    /* when the highest output sequence number was sent */
    __u32 out_last_ts;    /* timestamp of that packet */
    __u16 out_last_seq;   /* highest output sequence number sent */
    __u16 src_max_seq;    /* highest source sequence number seen */
    __u32 src_cycles;     /* wraps of the source sequence number */
    __u32 src_last_ts;    /* timestamp of the last in-order source packet */
    __u16 src_last_seq;   /* sequence number of that packet */
    __u16 pad;
    __u32 jitter_q4;      /* RFC 3550 interarrival jitter, timestamp units x 16 */
    __s64 last_transit;
    __u64 dropped[DROP_MAX];
    __u64 passed[PASS_MAX];
};

struct kfwd_table {
    __u8 t[512]; /* [0..256): mu-law -> A-law, [256..512): A-law -> mu-law */
};

_Static_assert(sizeof(struct kfwd_key) == 8, "key layout");
_Static_assert(sizeof(struct kfwd_rule) == 64, "rule layout");
_Static_assert(offsetof(struct kfwd_rule, ts_off) == 28, "rule layout");
_Static_assert(offsetof(struct kfwd_rule, flags) == 36, "rule layout");
_Static_assert(offsetof(struct kfwd_rule, max_ts_jump) == 56, "rule layout");
_Static_assert(sizeof(struct kfwd_stats) == 72 + 8 * DROP_MAX + 8 * PASS_MAX, "stats layout");
_Static_assert(offsetof(struct kfwd_stats, out_last_ts) == 40, "stats layout");
_Static_assert(offsetof(struct kfwd_stats, jitter_q4) == 60, "stats layout");
_Static_assert(offsetof(struct kfwd_stats, dropped) == 72, "stats layout");

/* Userspace sets max_entries at load time (aya's EbpfLoader::set_max_entries). */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4096);
    __type(key, struct kfwd_key);
    __type(value, struct kfwd_rule);
} kfwd_rules SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4096);
    __type(key, __u32);
    __type(value, struct kfwd_stats);
} kfwd_stats SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct kfwd_table);
} kfwd_table SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, GLOBAL_MAX);
    __type(key, __u32);
    __type(value, __u64);
} kfwd_global SEC(".maps");

/* A packet this program leaves alone: TC_ACT_UNSPEC is TCX_NEXT under TCX and "next filter"
 * under cls_bpf, so programs attached after this one (another relay's, a CNI's) still see
 * it; at the end of the chain the packet carries on into the stack. */
#define KFWD_NEXT TC_ACT_UNSPEC

static __always_inline void count_global(__u32 which)
{
    __u64 *c = bpf_map_lookup_elem(&kfwd_global, &which);
    if (c)
        *c += 1;
}

static __always_inline int pass_up(struct kfwd_stats *st, __u32 why)
{
    if (why < PASS_MAX)
        __sync_fetch_and_add(&st->passed[why], 1);
    return KFWD_NEXT;
}

/* Folds a 32-bit one's-complement accumulator to 16 bits. */
static __always_inline __u32 fold16(__u32 x)
{
    x = (x & 0xffff) + (x >> 16);
    x = (x & 0xffff) + (x >> 16);
    return x;
}

/* What forwarding an audio packet does to the source position. */
struct src_step {
    __u8 init;     /* first packet: the position starts here */
    __u8 advance;  /* a new highest sequence number */
    __u8 in_order; /* after the last in-order packet: it becomes the last */
    __u8 wrapped;  /* the sequence number wrapped */
};

/*
 * Sequence and timestamp checks of an audio packet against the source position (RFC 3550
 * A.1 without probation, and the timestamp-jump rule the userspace receiver applies).
 * Returns 0 to forward (with what to commit in *step), 1 for a discontinuity.
 */
static __always_inline int check_source(const struct kfwd_rule *r, const struct kfwd_stats *st,
                                        __u16 seq, __u32 ts, struct src_step *step)
{
    if (!(st->state & STATE_SRC)) {
        step->init = 1;
        return 0;
    }
    __u16 udelta = seq - st->src_max_seq;
    if (udelta != 0 && udelta < r->max_dropout)
        step->advance = 1;
    else if (udelta != 0 && (__u32)udelta <= 65536u - r->max_misorder)
        return 1; /* a jump: userspace decides whether the sender restarted */
    step->wrapped = step->advance && seq < st->src_max_seq;

    __s16 dseq = (__s16)(seq - st->src_last_seq);
    if (dseq > 0) {
        __s64 predicted = (__s64)dseq * r->samples_per_packet;
        __s64 actual = (__s32)(ts - st->src_last_ts);
        __s64 off = actual - predicted;
        if (off < 0)
            off = -off;
        if (off > r->max_ts_jump)
            return 1;
        step->in_order = 1;
    }
    return 0;
}

static __always_inline void commit_source(struct kfwd_stats *st, const struct src_step *step,
                                          __u16 seq, __u32 ts)
{
    if (step->init) {
        st->src_max_seq = seq;
        st->src_cycles = 0;
        st->src_last_seq = seq;
        st->src_last_ts = ts;
        st->state |= STATE_SRC;
        return;
    }
    if (step->wrapped)
        st->src_cycles += 1;
    if (step->advance)
        st->src_max_seq = seq;
    if (step->in_order) {
        st->src_last_seq = seq;
        st->src_last_ts = ts;
    }
}

/* RFC 3550 6.4.1 interarrival jitter, J += (|D| - J) / 16, at 8 kHz. */
static __always_inline void track_jitter(struct kfwd_stats *st, __u64 now_ns, __u32 ts)
{
    __s64 arrival = (__s64)(now_ns / 125000);
    __s64 transit = arrival - (__s64)ts;
    if (st->state & STATE_TRANSIT) {
        __s64 d = transit - st->last_transit;
        if (d < 0)
            d = -d;
        /* Ignore absurd values (clock jumps), as userspace does. */
        if (d < 8000 * 60) {
            __s64 j = st->jitter_q4;
            __s64 target = d * 16;
            /* Signed division truncating toward zero, written with unsigned division. */
            if (target >= j)
                j += (__s64)((__u64)(target - j) / 16);
            else
                j -= (__s64)((__u64)(j - target) / 16);
            st->jitter_q4 = (__u32)j;
        }
    }
    st->last_transit = transit;
    st->state |= STATE_TRANSIT;
}

/* (Re-)derives the header pointers: at the start, and after a helper that may move the
 * packet's data. Each use is followed by a bounds check. */
#define LOAD_HEADERS()                                                                         \
    do {                                                                                       \
        data = (void *)(long)skb->data;                                                        \
        data_end = (void *)(long)skb->data_end;                                                \
        eth = data;                                                                            \
        ip = (void *)(eth + 1);                                                                \
        udp = (void *)(ip + 1);                                                                \
        rtp = (void *)(udp + 1);                                                               \
    } while (0)

SEC("classifier") /* aya 0.13 names sched_cls programs by this section */
int kfwd_ingress(struct __sk_buff *skb)
{
    void *data = (void *)(long)skb->data;
    void *data_end = (void *)(long)skb->data_end;

    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return KFWD_NEXT;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_UDP)
        return KFWD_NEXT;
    /* Only a header without options has the UDP header at a fixed offset. */
    int has_options = ip->ihl != 5;
    struct udphdr *udp = (void *)(ip + 1);
    if ((void *)(udp + 1) > data_end)
        return KFWD_NEXT;

    struct kfwd_key key = {.addr = ip->daddr, .port = udp->dest, .pad = 0};
    struct kfwd_rule *r = bpf_map_lookup_elem(&kfwd_rules, &key);
    if (!r) {
        key.addr = 0; /* a rule for a port bound to every address */
        r = bpf_map_lookup_elem(&kfwd_rules, &key);
        if (!r)
            return KFWD_NEXT;
    }
    count_global(GLOBAL_MATCHED);
    __u32 slot = r->slot;
    struct kfwd_stats *st = bpf_map_lookup_elem(&kfwd_stats, &slot);
    if (!st || st->gen != r->gen) {
        count_global(GLOBAL_STALE);
        return KFWD_NEXT;
    }

    if (ip->saddr != r->src_addr || udp->source != r->src_port) {
        if (r->flags & RULE_STRICT_SOURCE) {
            __sync_fetch_and_add(&st->dropped[DROP_WRONG_SOURCE], 1);
            return TC_ACT_SHOT;
        }
        return pass_up(st, PASS_WRONG_SOURCE);
    }
    if (ip->frag_off & bpf_htons(IP_MF | IP_OFFMASK))
        return pass_up(st, PASS_FRAGMENT);
    if (has_options)
        return pass_up(st, PASS_UNSUPPORTED_HEADER);

    __u32 ip_len = bpf_ntohs(ip->tot_len);
    __u32 udp_len = bpf_ntohs(udp->len);
    if (udp_len != ip_len - sizeof(struct iphdr) || udp_len < sizeof(struct udphdr) + RTP_HLEN ||
        skb->len < ETH_HLEN + ip_len)
        return pass_up(st, PASS_MALFORMED);
    __u32 plen = udp_len - sizeof(struct udphdr) - RTP_HLEN;

    __u8 *rtp = (void *)(udp + 1);
    if ((void *)(rtp + RTP_HLEN) > data_end) {
        /* Headers not in the linear area: make them so. */
        if (bpf_skb_pull_data(skb, ETH_HLEN + sizeof(struct iphdr) + sizeof(struct udphdr) + RTP_HLEN))
            return pass_up(st, PASS_MALFORMED);
        LOAD_HEADERS();
        if ((void *)(rtp + RTP_HLEN) > data_end)
            return pass_up(st, PASS_MALFORMED);
    }
    __u8 b0 = rtp[0];
    __u8 b1 = rtp[1];
    if ((b0 >> 6) != 2)
        return pass_up(st, PASS_MALFORMED);
    __u8 pt = b1 & 0x7f;
    if (pt >= 72 && pt <= 76)
        return pass_up(st, PASS_RTCP); /* RTCP multiplexed on the RTP port (RFC 5761) */
    if (pt != r->pt_in) {
        if (pt == r->event_pt)
            return pass_up(st, PASS_TELEPHONE_EVENT);
        return pass_up(st, PASS_OTHER_PAYLOAD_TYPE);
    }
    /* Padding, header extension or CSRCs: userspace handles the rare cases. */
    if (b0 & 0x3f)
        return pass_up(st, PASS_UNSUPPORTED_HEADER);
    __u32 ssrc = bpf_ntohl(*(__u32 *)(rtp + 8));
    if ((r->flags & RULE_CHECK_SSRC) && ssrc != r->src_ssrc)
        return pass_up(st, PASS_SSRC);
    __u8 transcode = r->transcode;
    if (transcode != TRANSCODE_NONE && plen > MAX_TRANSCODE)
        return pass_up(st, PASS_TOO_LONG);

    __u16 seq = bpf_ntohs(*(__u16 *)(rtp + 2));
    __u32 ts = bpf_ntohl(*(__u32 *)(rtp + 4));
    struct src_step step = {};
    if (check_source(r, st, seq, ts, &step))
        return pass_up(st, PASS_DISCONTINUITY);

    /* Route the rewritten packet before touching it, so a failure passes it up intact. */
    struct bpf_fib_lookup fib = {};
    fib.family = AF_INET;
    fib.l4_protocol = IPPROTO_UDP;
    fib.sport = r->out_sport;
    fib.dport = r->out_dport;
    fib.tot_len = ip_len;
    fib.tos = ip->tos;
    fib.ipv4_src = r->out_saddr;
    fib.ipv4_dst = r->out_daddr;
    fib.ifindex = skb->ingress_ifindex;
    long fib_rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
    if (fib_rc == BPF_FIB_LKUP_RET_FWD_DISABLED) {
        /* The FIB helper answers only where IP forwarding is enabled on the ingress
         * interface. Elsewhere, use the route userspace looked up when the stream was added
         * (an output route, which needs no forwarding): the local flag, or the egress
         * interface for bpf_redirect_neigh, which resolves the next hop itself. */
        if (r->flags & RULE_LOCAL_PEER) {
            fib_rc = BPF_FIB_LKUP_RET_NOT_FWDED;
        } else if (r->egress_ifindex) {
            fib_rc = BPF_FIB_LKUP_RET_NO_NEIGH;
            fib.ifindex = r->egress_ifindex;
        }
    }
    if (fib_rc != BPF_FIB_LKUP_RET_SUCCESS && fib_rc != BPF_FIB_LKUP_RET_NO_NEIGH &&
        fib_rc != BPF_FIB_LKUP_RET_NOT_FWDED)
        return pass_up(st, PASS_NO_ROUTE);
    /* A peer on this host, for a packet that came from another interface: it can only
     * re-enter through loopback, and the stack there drops a local source address as
     * martian unless loopback has accept_local set. */
    if (fib_rc == BPF_FIB_LKUP_RET_NOT_FWDED && skb->ingress_ifindex != LOOPBACK_IFINDEX &&
        !(r->flags & RULE_REINJECT_LOCAL))
        return pass_up(st, PASS_LOCAL_PEER);

    __u64 now = bpf_ktime_get_ns();

    /* Payload: table transcode, keeping the one's-complement sums of old and new bytes. */
    __u32 payload_diff = 0;
    if (transcode != TRANSCODE_NONE) {
        __u32 total = ETH_HLEN + sizeof(struct iphdr) + sizeof(struct udphdr) + RTP_HLEN + plen;
        /* Cheap when the payload is already in the linear area. */
        if (bpf_skb_pull_data(skb, total))
            return pass_up(st, PASS_MALFORMED);
        /* The helper may move the data: re-derive every packet pointer. */
        data = (void *)(long)skb->data;
        data_end = (void *)(long)skb->data_end;
        __u32 zero = 0;
        struct kfwd_table *tbl = bpf_map_lookup_elem(&kfwd_table, &zero);
        if (!tbl)
            return pass_up(st, PASS_MALFORMED);
        __u32 base = transcode == TRANSCODE_ULAW_TO_ALAW ? 0 : 256;
        __u8 *payload = data + ETH_HLEN + sizeof(struct iphdr) + sizeof(struct udphdr) + RTP_HLEN;
        __u32 old_sum = 0, new_sum = 0;
        for (__u32 i = 0; i < MAX_TRANSCODE; i++) {
            if (i >= plen)
                break;
            __u8 *p = payload + i;
            if ((void *)(p + 1) > data_end)
                break;
            __u8 o = *p;
            __u8 n = tbl->t[(base + o) & 511];
            *p = n;
            /* The payload starts at an even offset from the UDP header. In the host-order
             * 16-bit words the kernel's checksum code sums, an even byte is the low half on
             * a little-endian host and the high half on a big-endian one. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            __u32 shift = (i & 1) ? 8 : 0;
#else
            __u32 shift = (i & 1) ? 0 : 8;
#endif
            old_sum += (__u32)o << shift;
            new_sum += (__u32)n << shift;
        }
        /* new - old in one's complement: new + ~old. */
        payload_diff = fold16(new_sum) + (~fold16(old_sum) & 0xffff);
    }

    LOAD_HEADERS();
    if ((void *)(rtp + RTP_HLEN) > data_end)
        return pass_up(st, PASS_MALFORMED);

    __u16 out_seq = seq + r->seq_off;
    __u32 out_ts = ts + r->ts_off;

    /* Old and new words: IP addresses and TTL (IP header and UDP pseudo-header), then UDP
     * ports and the RTP header words (UDP checksum only). */
    __u32 old_addr[3] = {ip->saddr, ip->daddr, 0};
    __u32 new_addr[3] = {r->out_saddr, r->out_daddr, 0};
    ((__u8 *)&old_addr[2])[0] = ip->ttl;
    ((__u8 *)&new_addr[2])[0] = OUT_TTL;
    __u32 old_hdr[4] = {*(__u32 *)&udp->source, *(__u32 *)rtp, *(__u32 *)(rtp + 4),
                        *(__u32 *)(rtp + 8)};

    ip->saddr = r->out_saddr;
    ip->daddr = r->out_daddr;
    ip->ttl = OUT_TTL;
    udp->source = r->out_sport;
    udp->dest = r->out_dport;
    rtp[1] = (b1 & 0x80) | (r->pt_out & 0x7f);
    *(__u16 *)(rtp + 2) = bpf_htons(out_seq);
    *(__u32 *)(rtp + 4) = bpf_htonl(out_ts);
    *(__u32 *)(rtp + 8) = bpf_htonl(r->out_ssrc);
    __u32 new_hdr[4] = {*(__u32 *)&udp->source, *(__u32 *)rtp, *(__u32 *)(rtp + 4),
                        *(__u32 *)(rtp + 8)};

    __s64 l3_diff = bpf_csum_diff(old_addr, sizeof(old_addr), new_addr, sizeof(new_addr), 0);
    __s64 pseudo_diff = bpf_csum_diff(old_addr, 8, new_addr, 8, 0);
    __s64 l4_diff = bpf_csum_diff(old_hdr, sizeof(old_hdr), new_hdr, sizeof(new_hdr), payload_diff);
    if (l3_diff < 0 || pseudo_diff < 0 || l4_diff < 0)
        return TC_ACT_SHOT; /* cannot happen with these sizes; never send a bad checksum */
    const __u32 ip_csum = ETH_HLEN + offsetof(struct iphdr, check);
    const __u32 udp_csum = ETH_HLEN + sizeof(struct iphdr) + offsetof(struct udphdr, check);
    bpf_l3_csum_replace(skb, ip_csum, 0, l3_diff, 0);
    bpf_l4_csum_replace(skb, udp_csum, 0, pseudo_diff, BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0);
    bpf_l4_csum_replace(skb, udp_csum, 0, l4_diff, BPF_F_MARK_MANGLED_0);

    commit_source(st, &step, seq, ts);
    track_jitter(st, now, ts);
    __sync_fetch_and_add(&st->packets, 1);
    __sync_fetch_and_add(&st->octets, plen);
    st->last_seen_ns = now;
    if (!(st->state & STATE_OUT) || (__s16)(out_seq - st->out_last_seq) > 0) {
        st->out_last_seq = out_seq;
        st->out_last_ts = out_ts;
        st->out_last_ns = now;
        st->state |= STATE_OUT;
    }

    if (fib_rc == BPF_FIB_LKUP_RET_NOT_FWDED) {
        /* The peer is on this host. On loopback the packet carries on into the stack with its
         * new header: it still has the route its sender attached (to a local address), so no
         * input route lookup judges its local source. From another interface it re-enters
         * through loopback (RULE_REINJECT_LOCAL checked above). */
        count_global(GLOBAL_LOCAL);
        if (skb->ingress_ifindex == LOOPBACK_IFINDEX)
            return TC_ACT_OK;
        /* Loopback's address is all zeros: with the old destination MAC the frame would be
         * "for another host" there and dropped before IP. */
        data = (void *)(long)skb->data;
        data_end = (void *)(long)skb->data_end;
        eth = data;
        if ((void *)(eth + 1) > data_end)
            return TC_ACT_SHOT;
        __builtin_memset(eth->h_dest, 0, ETH_ALEN);
        __builtin_memset(eth->h_source, 0, ETH_ALEN);
        return bpf_redirect(LOOPBACK_IFINDEX, BPF_F_INGRESS);
    }
    count_global(GLOBAL_REDIRECTED);
    if (fib_rc == BPF_FIB_LKUP_RET_NO_NEIGH)
        return bpf_redirect_neigh(fib.ifindex, NULL, 0, 0);
    data = (void *)(long)skb->data;
    data_end = (void *)(long)skb->data_end;
    eth = data;
    if ((void *)(eth + 1) > data_end)
        return TC_ACT_SHOT;
    __builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
    __builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
    return bpf_redirect(fib.ifindex, 0);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
