// SPDX-License-Identifier: GPL-2.0

#include <linux/bottom_half.h>
#include <linux/hardirq.h>
#include <linux/irqflags.h>
#include <linux/lockdep.h>

__rust_helper void rust_helper_local_bh_disable(void)
{
	local_bh_disable();
}

__rust_helper void rust_helper_local_bh_enable(void)
{
	local_bh_enable();
}

/* True in NMI too: nmi_enter() adds HARDIRQ_OFFSET as well as NMI_OFFSET. */
__rust_helper bool rust_helper_in_hardirq(void)
{
	return in_hardirq();
}

__rust_helper bool rust_helper_irqs_disabled(void)
{
	return irqs_disabled();
}

__rust_helper void rust_helper_lockdep_assert_in_softirq(void)
{
	lockdep_assert_in_softirq();
}
