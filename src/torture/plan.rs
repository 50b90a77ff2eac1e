// SPDX-License-Identifier: GPL-2.0

//! What a run does: which contexts it starts, and the entry of the ops table they all use.

use super::{
    ops::{self, Ops},
    params::Params,
    stats::{Context, CONTEXTS},
};

/// Which contexts a run starts, and what they do.
#[derive(Clone, Copy)]
pub(crate) struct Plan {
    contexts: [bool; CONTEXTS.len()],
    pub(crate) ops: &'static Ops,
}

impl Plan {
    /// Runs `contexts` with `ops`. The hard-irq timer is what schedules NAPI, so a plan with
    /// NAPI must name it too.
    pub(crate) const fn new(contexts: &[Context], ops: &'static Ops) -> Self {
        let mut on = [false; CONTEXTS.len()];
        let mut i = 0;
        while i < contexts.len() {
            on[contexts[i] as usize] = true;
            i += 1;
        }
        Self { contexts: on, ops }
    }

    /// What `start` and `duration` run: every context, with the locked entry or the one
    /// negative control the parameters ask for.
    pub(crate) fn torture(params: &Params) -> Self {
        let ops = if params.busted {
            &ops::BUSTED
        } else if params.irqs_on_in_hardirq {
            &ops::IRQS_ON_IN_HARDIRQ
        } else if params.unlock_irq_in_hardirq {
            &ops::UNLOCK_IRQ_IN_HARDIRQ
        } else {
            &ops::LOCKED
        };
        Self::new(&CONTEXTS, ops)
    }

    /// Whether the run starts `context`.
    pub(crate) fn runs(&self, context: Context) -> bool {
        self.contexts[context as usize]
    }
}
