//! The static check that makes every call end: no loop of automatic edges.
//!
//! An edge is automatic when it is taken without the caller keying anything (a prompt ends,
//! a timeout, a condition, the network). If automatic edges formed a cycle, a silent caller
//! would go round it for ever. Without such a cycle, a silent caller's path is a walk down a
//! directed acyclic graph (at most one visit per node, each node waiting a bounded time), and
//! every further trip round a loop costs the caller a key press; the step budget bounds those.

use crate::flow::{Edge, Flow, NodeId};
use crate::source::{FlowError, Source};

/// Refuses a flow whose automatic edges contain a cycle, naming the cycle.
pub(crate) fn no_silent_loop(flow: &Flow, src: &Source) -> Result<(), FlowError> {
    let n = flow.nodes().len();
    let succ: Vec<Vec<NodeId>> = flow
        .nodes()
        .iter()
        .map(|node| {
            node.edges()
                .into_iter()
                .filter(|&(_, e)| e == Edge::Automatic)
                .map(|(t, _)| t)
                .collect()
        })
        .collect();
    // 0 = unvisited, 1 = on the current path, 2 = done.
    let mut mark = vec![0u8; n];
    let mut path: Vec<(usize, usize)> = Vec::new();
    for root in 0..n {
        if mark[root] != 0 {
            continue;
        }
        mark[root] = 1;
        path.push((root, 0));
        while let Some(&mut (v, ref mut next)) = path.last_mut() {
            if let Some(&w) = succ[v].get(*next) {
                *next += 1;
                let w = w.index();
                match mark[w] {
                    0 => {
                        mark[w] = 1;
                        path.push((w, 0));
                    }
                    1 => {
                        let from = path.iter().position(|&(x, _)| x == w).unwrap_or(0);
                        let mut names: Vec<&str> = path[from..]
                            .iter()
                            .map(|&(x, _)| &*flow.nodes()[x].name)
                            .collect();
                        names.push(&flow.nodes()[w].name);
                        let node = &flow.nodes()[w];
                        return Err(src.error(
                            Some(node.line),
                            Some(node.name.to_string()),
                            format!(
                                "the flow can loop without caller input: {} (a menu, collect or \
                                 queue callback key must break the loop)",
                                names.join(" → ")
                            ),
                        ));
                    }
                    _ => {}
                }
            } else {
                mark[v] = 2;
                path.pop();
            }
        }
    }
    Ok(())
}
