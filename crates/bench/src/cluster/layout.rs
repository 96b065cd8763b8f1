//! Who is where in a cluster run: each user's node and load-generator process, the
//! presence ring and the chat pairs. Pure arithmetic, so it is tested on its own.
//!
//! Users `0..presence` are the presence ring, on the nodes in turn, each watching
//! contacts on other nodes only; the next `chat` users are the chat pairs, the two of a
//! pair on neighbouring nodes; the rest are idle, filling the first node (the one the
//! storm kills) up to its share and the others evenly. The ring and the pairs all live in
//! worker 0, so a latency is measured with one clock; the idle users fill the workers up
//! to their connection budget.

/// Where every user is, by user index.
#[derive(Debug, Clone)]
pub struct Layout {
    pub node_of: Vec<usize>,
    pub worker_of: Vec<usize>,
    pub workers: usize,
    /// Users `0..presence` are the ring.
    pub presence: usize,
    /// Offsets `d` such that user `i` watches `i ± d` (none a multiple of the node count).
    pub ring_offsets: Vec<usize>,
    /// Pairs of user indices (the first calls the second).
    pub chat_pairs: Vec<(usize, usize)>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LayoutError {
    #[error("{0}")]
    Invalid(String),
}

pub struct Shape {
    pub users: usize,
    pub nodes: usize,
    /// Users on node 0, the one the storm kills (0: spread evenly).
    pub first_node_users: usize,
    pub presence: usize,
    pub contacts: usize,
    pub chat: usize,
    /// Both of each chat pair on one node (the control run: what the box's load costs
    /// a delivery, without crossing nodes).
    pub chat_same_node: bool,
    /// Connections one load-generator process may hold.
    pub per_worker: usize,
}

impl Layout {
    pub fn new(shape: &Shape) -> Result<Self, LayoutError> {
        let Shape { users, nodes, first_node_users, presence, contacts, chat, chat_same_node, per_worker } =
            *shape;
        let invalid = |why: String| Err(LayoutError::Invalid(why));
        if nodes < 2 {
            return invalid("a cluster needs at least 2 nodes".into());
        }
        if presence > 0 && (!presence.is_multiple_of(nodes) || !contacts.is_multiple_of(2)) {
            return invalid(format!(
                "--presence-users must be a multiple of --nodes ({nodes}), --contacts even"
            ));
        }
        if !chat.is_multiple_of(2) {
            return invalid("--chat-users must be even: users chat in pairs".into());
        }
        if presence + chat > users {
            return invalid("--users must be at least --presence-users + --chat-users".into());
        }
        // Worker 0 holds the ring and the pairs (each chat user has an NS and an SB connection).
        if presence + 2 * chat > per_worker {
            return invalid(format!("the presence and chat users need more than {per_worker} connections"));
        }
        let ring_offsets: Vec<usize> = (1..).filter(|d| d % nodes != 0).take(contacts / 2).collect();
        if presence > 0 && ring_offsets.last().is_some_and(|&d| 2 * d >= presence) {
            return invalid("--presence-users is too small for that many --contacts".into());
        }
        let mut node_of = Vec::with_capacity(users);
        node_of.extend((0..presence).map(|i| i % nodes));
        let chat_pairs: Vec<(usize, usize)> =
            (0..chat / 2).map(|k| (presence + 2 * k, presence + 2 * k + 1)).collect();
        for k in 0..chat / 2 {
            node_of.push(k % nodes);
            node_of.push(if chat_same_node { k % nodes } else { (k + 1) % nodes });
        }
        let idle = users - presence - chat;
        let on_first = node_of.iter().filter(|&&n| n == 0).count();
        let idle_first = if first_node_users == 0 {
            idle.div_ceil(nodes)
        } else {
            first_node_users.saturating_sub(on_first).min(idle)
        };
        node_of.extend(std::iter::repeat_n(0, idle_first));
        node_of.extend((0..idle - idle_first).map(|i| 1 + i % (nodes - 1)));

        let connections = users + chat;
        let workers = connections.div_ceil(per_worker).max(1);
        let mut load = vec![0usize; workers];
        let mut worker_of = Vec::with_capacity(users);
        for i in 0..users {
            let worker =
                if i < presence + chat { 0 } else { (0..workers).min_by_key(|&w| load[w]).unwrap_or(0) };
            load[worker] += if (presence..presence + chat).contains(&i) { 2 } else { 1 };
            worker_of.push(worker);
        }
        if load.iter().any(|&l| l > per_worker) {
            return invalid(format!("cannot fit {connections} connections in workers of {per_worker}"));
        }
        Ok(Self { node_of, worker_of, workers, presence, ring_offsets, chat_pairs })
    }

    /// The contact pairs to provision: the ring's and the chat pairs'.
    pub fn contacts(&self) -> Vec<(usize, usize)> {
        let ring = (0..self.presence)
            .flat_map(|i| self.ring_offsets.iter().map(move |&d| (i, (i + d) % self.presence)));
        ring.chain(self.chat_pairs.iter().copied()).collect()
    }

    pub fn users_on(&self, node: usize) -> usize {
        self.node_of.iter().filter(|&&n| n == node).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(users: usize, nodes: usize, first: usize) -> Shape {
        Shape {
            users,
            nodes,
            first_node_users: first,
            presence: 2004 - 2004 % nodes,
            contacts: 20,
            chat: 1000,
            chat_same_node: false,
            per_worker: 16_000,
        }
    }

    #[test]
    fn every_watcher_is_on_another_node_and_every_pair_crosses_nodes() {
        let layout = Layout::new(&shape(100_000, 6, 15_000)).unwrap();
        for i in 0..layout.presence {
            for (a, b) in layout.ring_offsets.iter().map(|d| (i, (i + d) % layout.presence)) {
                assert_ne!(layout.node_of[a], layout.node_of[b], "{a} and {b}");
            }
        }
        assert_eq!(layout.ring_offsets.len(), 10);
        for &(a, b) in &layout.chat_pairs {
            assert_ne!(layout.node_of[a], layout.node_of[b]);
            assert_eq!(layout.worker_of[a], 0);
        }
    }

    #[test]
    fn the_first_node_gets_its_share_and_workers_their_budget() {
        let layout = Layout::new(&shape(100_000, 7, 15_000)).unwrap();
        assert_eq!(layout.users_on(0), 15_000);
        let others: Vec<usize> = (1..7).map(|n| layout.users_on(n)).collect();
        assert!(others.iter().all(|&n| n.abs_diff(85_000 / 6) <= 400), "{others:?}");
        assert_eq!(layout.workers, 101_000usize.div_ceil(16_000));
        for w in 0..layout.workers {
            let held = layout.worker_of.iter().filter(|&&x| x == w).count();
            assert!(held <= 16_000, "worker {w} holds {held}");
        }
    }

    #[test]
    fn impossible_shapes_are_refused() {
        assert!(Layout::new(&shape(1_000, 1, 0)).is_err());
        let mut odd = shape(10_000, 2, 0);
        odd.chat = 3;
        assert!(Layout::new(&odd).is_err());
    }

    #[test]
    fn the_control_run_keeps_each_pair_on_one_node() {
        let mut control = shape(100_000, 7, 15_000);
        control.chat_same_node = true;
        let layout = Layout::new(&control).unwrap();
        assert!(layout.chat_pairs.iter().all(|&(a, b)| layout.node_of[a] == layout.node_of[b]));
        let nodes: std::collections::HashSet<usize> =
            layout.chat_pairs.iter().map(|&(a, _)| layout.node_of[a]).collect();
        assert_eq!(nodes.len(), 7, "the pairs are still spread over every node");
    }
}
