//! The forwarder when the BPF program was built: loading it with aya, attaching it at tc
//! ingress, and the maps.

use std::io;
use std::sync::Mutex;

use aya::maps::{Array, HashMap, MapData, PerCpuArray};
use aya::programs::tc::{self, NlOptions, TcAttachOptions};
use aya::programs::{LinkOrder, SchedClassifier, TcAttachType};
use aya::{Ebpf, EbpfLoader};

use crate::counters::{GlobalCounters, ProgramStats, StreamCounters};
use crate::error::{Error, Unavailable};
use crate::layout::{self, GLOBAL_MAX, Key, Rule, Stats, Table};
use crate::route::RouteQuery;
use crate::rule::StreamRule;

static OBJECT: &[u8] = aya::include_bytes_aligned!(env!("TANDEM_KFWD_OBJECT"));

const PROGRAM: &str = "kfwd_ingress";

/// Stream slots: which are free, and each slot's generation (bumped on every reuse so a
/// rule left over in a racing packet never updates the new stream's counters).
struct Slots {
    free: Vec<u32>,
    generation: Vec<u32>,
    /// The local key of the stream in each slot, if any.
    keys: Vec<Option<Key>>,
}

struct Maps {
    rules: HashMap<MapData, Key, Rule>,
    stats: Array<MapData, Stats>,
    slots: Slots,
    routes: RouteQuery,
    /// `net.ipv4.conf.lo.accept_local` in the forwarder's namespace when it was opened.
    reinject_local: bool,
}

/// The loaded program with its maps and links.
pub(crate) struct Loaded {
    maps: Mutex<Maps>,
    global: PerCpuArray<MapData, u64>,
    capacity: u32,
    interfaces: Vec<String>,
    // Dropping the program detaches it from every interface (its links are owned).
    _ebpf: Ebpf,
}

fn chain_errno(e: &(dyn std::error::Error + 'static)) -> Option<i32> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<io::Error>() {
            if let Some(code) = io.raw_os_error() {
                return Some(code);
            }
        }
        cur = err.source();
    }
    None
}

fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(err) = cur {
        s.push_str(": ");
        s.push_str(&err.to_string());
        cur = err.source();
    }
    s
}

fn unavailable(e: &(dyn std::error::Error + 'static)) -> Unavailable {
    match chain_errno(e) {
        Some(libc::EPERM) | Some(libc::EACCES) => Unavailable::NotPermitted(describe(e)),
        _ => Unavailable::LoadFailed(describe(e)),
    }
}

fn map_error(map: &'static str, e: impl std::error::Error + 'static) -> Error {
    Error::Map {
        map,
        reason: describe(&e),
    }
}

/// Loads the program and its maps (verifier included) without attaching it.
fn load(capacity: u32) -> Result<Ebpf, Unavailable> {
    let mut ebpf = EbpfLoader::new()
        .set_max_entries("kfwd_rules", capacity)
        .set_max_entries("kfwd_stats", capacity)
        .load(OBJECT)
        .map_err(|e| unavailable(&e))?;
    let prog: &mut SchedClassifier = ebpf
        .program_mut(PROGRAM)
        .ok_or_else(|| Unavailable::LoadFailed(format!("no program {PROGRAM} in the object")))?
        .try_into()
        .map_err(|e| unavailable(&e))?;
    prog.load().map_err(|e| unavailable(&e))?;
    Ok(ebpf)
}

/// Attaches at tc ingress: as a TCX link where the kernel has them (6.6 and later; the link
/// goes with the process), else as a classic cls_bpf filter on a clsact qdisc.
fn attach(prog: &mut SchedClassifier, interface: &str) -> Result<(), Unavailable> {
    let tcx = prog.attach_with_options(
        interface,
        TcAttachType::Ingress,
        TcAttachOptions::TcxOrder(LinkOrder::default()),
    );
    let Err(tcx_err) = tcx else {
        return Ok(());
    };
    if matches!(chain_errno(&tcx_err), Some(libc::ENODEV)) {
        return Err(Unavailable::AttachFailed {
            interface: interface.to_owned(),
            reason: "no such interface".to_owned(),
        });
    }
    if let Err(e) = tc::qdisc_add_clsact(interface) {
        if e.kind() != io::ErrorKind::AlreadyExists {
            return Err(Unavailable::AttachFailed {
                interface: interface.to_owned(),
                reason: format!("tcx: {}; clsact: {e}", describe(&tcx_err)),
            });
        }
    }
    prog.attach_with_options(
        interface,
        TcAttachType::Ingress,
        TcAttachOptions::Netlink(NlOptions::default()),
    )
    .map(|_| ())
    .map_err(|e| Unavailable::AttachFailed {
        interface: interface.to_owned(),
        reason: format!("tcx: {}; netlink: {}", describe(&tcx_err), describe(&e)),
    })
}

impl Loaded {
    pub(crate) fn probe() -> Result<(), Unavailable> {
        load(1).map(|_| ())
    }

    pub(crate) fn open(interfaces: &[&str], capacity: u32) -> Result<Loaded, Unavailable> {
        if interfaces.is_empty() {
            return Err(Unavailable::NoInterface);
        }
        let mut ebpf = load(capacity)?;
        let lost = |what: &str| Unavailable::LoadFailed(format!("{what} missing from the object"));
        let mut table: Array<MapData, Table> = ebpf
            .take_map("kfwd_table")
            .ok_or_else(|| lost("kfwd_table"))?
            .try_into()
            .map_err(|e| unavailable(&e))?;
        table
            .set(0, layout::table(), 0)
            .map_err(|e| unavailable(&e))?;
        let rules: HashMap<MapData, Key, Rule> = ebpf
            .take_map("kfwd_rules")
            .ok_or_else(|| lost("kfwd_rules"))?
            .try_into()
            .map_err(|e| unavailable(&e))?;
        let stats: Array<MapData, Stats> = ebpf
            .take_map("kfwd_stats")
            .ok_or_else(|| lost("kfwd_stats"))?
            .try_into()
            .map_err(|e| unavailable(&e))?;
        let global: PerCpuArray<MapData, u64> = ebpf
            .take_map("kfwd_global")
            .ok_or_else(|| lost("kfwd_global"))?
            .try_into()
            .map_err(|e| unavailable(&e))?;
        let prog: &mut SchedClassifier = ebpf
            .program_mut(PROGRAM)
            .ok_or_else(|| lost(PROGRAM))?
            .try_into()
            .map_err(|e| unavailable(&e))?;
        let reinject_local = std::fs::read_to_string("/proc/sys/net/ipv4/conf/lo/accept_local")
            .is_ok_and(|v| v.trim() == "1");
        let routes =
            RouteQuery::new().map_err(|e| Unavailable::LoadFailed(format!("rtnetlink: {e}")))?;
        for iface in interfaces {
            // On failure, dropping `ebpf` detaches from the interfaces already done.
            attach(prog, iface)?;
        }
        Ok(Loaded {
            maps: Mutex::new(Maps {
                rules,
                stats,
                slots: Slots {
                    free: (0..capacity).rev().collect(),
                    generation: vec![0; capacity as usize],
                    keys: vec![None; capacity as usize],
                },
                routes,
                reinject_local,
            }),
            global,
            capacity,
            interfaces: interfaces.iter().map(|s| (*s).to_owned()).collect(),
            _ebpf: ebpf,
        })
    }

    pub(crate) fn capacity(&self) -> u32 {
        self.capacity
    }

    pub(crate) fn interfaces(&self) -> &[String] {
        &self.interfaces
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Maps> {
        // A panic while holding the lock cannot leave the maps half-written in a way that
        // matters (the kernel's copy is the truth), so a poisoned lock is still usable.
        self.maps.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn len(&self) -> usize {
        let m = self.lock();
        self.capacity as usize - m.slots.free.len()
    }

    pub(crate) fn add(&self, rule: &StreamRule) -> Result<(u32, u32), Error> {
        let mut m = self.lock();
        let key = layout::key(rule.local);
        if m.slots.keys.contains(&Some(key)) {
            return Err(Error::Duplicate(rule.local));
        }
        let Some(&slot) = m.slots.free.last() else {
            return Err(Error::Full(self.capacity));
        };
        let generation = m.slots.generation[slot as usize].wrapping_add(1);
        let mut route = m
            .routes
            .lookup(rule.output.from, rule.output.to)
            .map_err(|e| Error::NoRoute(rule.output.to, e.to_string()))?;
        route.reinject_local = m.reinject_local;
        let (key, entry, seed) = rule.encode(slot, generation, route)?;
        // Counters first, then the rule: the program never sees the rule with stale stats.
        m.stats
            .set(slot, seed, 0)
            .map_err(|e| map_error("kfwd_stats", e))?;
        m.rules
            .insert(key, entry, 0)
            .map_err(|e| map_error("kfwd_rules", e))?;
        m.slots.free.pop();
        m.slots.generation[slot as usize] = generation;
        m.slots.keys[slot as usize] = Some(key);
        Ok((slot, generation))
    }

    fn check(m: &Maps, slot: u32, generation: u32) -> Result<Key, Error> {
        match (
            m.slots.keys.get(slot as usize).copied().flatten(),
            m.slots.generation.get(slot as usize),
        ) {
            (Some(key), Some(&g)) if g == generation => Ok(key),
            _ => Err(Error::UnknownStream),
        }
    }

    pub(crate) fn remove(&self, slot: u32, generation: u32) -> Result<StreamCounters, Error> {
        let mut m = self.lock();
        let key = Self::check(&m, slot, generation)?;
        m.rules
            .remove(&key)
            .map_err(|e| map_error("kfwd_rules", e))?;
        // Read after the rule is gone: only a packet already inside the program on another
        // CPU can still add to these.
        let stats = m
            .stats
            .get(&slot, 0)
            .map_err(|e| map_error("kfwd_stats", e))?;
        m.slots.keys[slot as usize] = None;
        m.slots.free.push(slot);
        Ok(StreamCounters::from_stats(&stats))
    }

    pub(crate) fn counters(&self, slot: u32, generation: u32) -> Result<StreamCounters, Error> {
        let m = self.lock();
        Self::check(&m, slot, generation)?;
        let stats = m
            .stats
            .get(&slot, 0)
            .map_err(|e| map_error("kfwd_stats", e))?;
        Ok(StreamCounters::from_stats(&stats))
    }

    pub(crate) fn program_stats(&self) -> Result<ProgramStats, Error> {
        let prog: &SchedClassifier = self
            ._ebpf
            .program(PROGRAM)
            .ok_or(Error::UnknownStream)?
            .try_into()
            .map_err(|e| map_error("program", e))?;
        let info = prog.info().map_err(|e| map_error("program", e))?;
        Ok(ProgramStats {
            runs: info.run_count(),
            run_time: info.run_time(),
        })
    }

    pub(crate) fn global(&self) -> Result<GlobalCounters, Error> {
        let mut sums = [0u64; GLOBAL_MAX as usize];
        for (i, sum) in sums.iter_mut().enumerate() {
            let per_cpu = self
                .global
                .get(&(i as u32), 0)
                .map_err(|e| map_error("kfwd_global", e))?;
            *sum = per_cpu.iter().sum();
        }
        Ok(GlobalCounters {
            matched: sums[0],
            stale: sums[1],
            redirected: sums[2],
            local: sums[3],
        })
    }
}
