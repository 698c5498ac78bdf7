//! The CEL expressions a VM's plugins created with Envoy's `expr_create`: kept per root
//! context, as Envoy keeps them in the root context's storage, with tokens counted from 0 per
//! root; bounded, so a guest cannot make the host hold compiled programs without end.

use std::collections::HashMap;

use cel::Program;

/// Most expressions one VM may hold at once, over all its root contexts.
pub const MAX_EXPRESSIONS: usize = 1024;

/// A VM's compiled expressions.
#[derive(Default)]
pub struct Expressions {
    by_root: HashMap<u32, RootExpressions>,
    count: usize,
}

#[derive(Default)]
struct RootExpressions {
    next_token: u32,
    programs: HashMap<u32, Program>,
}

impl Expressions {
    /// Keeps `program` for `root`; its token, or `None` past [`MAX_EXPRESSIONS`].
    pub fn insert(&mut self, root: u32, program: Program) -> Option<u32> {
        if self.count >= MAX_EXPRESSIONS {
            return None;
        }
        let root = self.by_root.entry(root).or_default();
        let mut token = root.next_token;
        while root.programs.contains_key(&token) {
            token = token.wrapping_add(1);
        }
        root.next_token = token.wrapping_add(1);
        root.programs.insert(token, program);
        self.count += 1;
        Some(token)
    }

    /// `root`'s expression `token`.
    pub fn get(&self, root: u32, token: u32) -> Option<&Program> {
        self.by_root.get(&root)?.programs.get(&token)
    }

    /// Forgets `root`'s expression `token` (nothing when there is none).
    pub fn remove(&mut self, root: u32, token: u32) {
        let removed = (self.by_root.get_mut(&root)).and_then(|r| r.programs.remove(&token));
        if removed.is_some() {
            self.count -= 1;
        }
    }

    /// Forgets every expression of `root` (its context ended).
    pub fn forget_root(&mut self, root: u32) {
        if let Some(gone) = self.by_root.remove(&root) {
            self.count -= gone.programs.len();
        }
    }
}
