// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: built as on a `CONFIG_PARAVIRT_XXL` kernel (Xen PV), the BH token's
//! context check must read the interrupt state through `irqs_disabled()` (the helper), which
//! goes through the paravirt op there; the inline `pushf` would read the hardware flag, which a
//! PV guest's interrupt state is not. None of the test kernels has that option, so the case
//! sets the cfg itself and looks at the object's undefined symbols.
//!
//! cfg: CONFIG_PARAVIRT_XXL
//! expect: calls rust_helper_irqs_disabled

include!("layer.inc");

pub fn section() -> Result {
    let bh = local_bh_disable()?;
    drop(bh);
    Ok(())
}
