// SPDX-License-Identifier: GPL-2.0

//! Following CPUs as they come online and go offline: two multi-instance CPU hotplug states
//! of its own per watch, each with one instance. The kernel crate of 7.3 has no binding of
//! the CPU hotplug API; `cpu_hotplug_shim.c` wraps its static inlines.
//!
//! The online and offline callbacks are those of a `CPUHP_AP_ONLINE_DYN` state: they run on
//! the CPU concerned, in its hotplug thread (process context, may sleep, bound to that CPU),
//! after it came online and before it goes offline. The coming and gone callbacks are those of
//! a `CPUHP_BP_PREPARE_DYN` state: they run on the CPU driving the hotplug, before the CPU
//! starts to come up and after it is dead, so that between `offline` and `gone`, and between
//! `coming` and `online`, the CPU is in transition. All run with the CPU hotplug lock held,
//! never two at once.

use kernel::{
    bindings, container_of,
    cpu::CpuId,
    ffi::{c_char, c_int, c_uint},
    prelude::*,
    str::CStr,
    types::Opaque,
};

/// What a [`CpuWatch`] calls as CPUs come and go.
///
/// `Send + Sync`: the callbacks run in other CPUs' hotplug threads while the watch's owner
/// reaches the follower too.
pub(crate) trait CpuFollower: Send + Sync {
    /// `cpu` is about to come up: called on another CPU before it starts to, and for each CPU
    /// online when the watch starts.
    fn coming(&self, _cpu: CpuId) {}

    /// `cpu` is online: called on it once when the watch starts (for each CPU online then)
    /// and each time it comes online again. An error refuses the CPU: the watch's start fails,
    /// or the CPU stays offline.
    fn online(&self, cpu: CpuId) -> Result;

    /// `cpu` goes offline: called on it before it does, and for each online CPU when the
    /// watch ends. Everything [`CpuFollower::online`] started there must stop here.
    fn offline(&self, cpu: CpuId);

    /// `cpu` is dead: called on another CPU once it is, and for each CPU online when the watch
    /// ends.
    fn gone(&self, _cpu: CpuId) {}
}

/// A callback of a multi-instance hotplug state.
type Callback = unsafe extern "C" fn(c_uint, *mut bindings::hlist_node) -> c_int;

#[allow(improper_ctypes)]
extern "C" {
    fn bhlock_cpuhp_setup_multi(
        bp: bool,
        name: *const c_char,
        startup: Callback,
        teardown: Callback,
    ) -> c_int;
    fn bhlock_cpuhp_add_instance(state: c_int, node: *mut bindings::hlist_node) -> c_int;
    fn bhlock_cpuhp_remove_instance(state: c_int, node: *mut bindings::hlist_node);
    fn bhlock_cpuhp_remove_multi(state: c_int);
}

/// The two hotplug states' instances: their list nodes and the follower the callbacks reach
/// through them.
#[pin_data]
struct Instance<T> {
    #[pin]
    ap_node: Opaque<bindings::hlist_node>,
    #[pin]
    bp_node: Opaque<bindings::hlist_node>,
    follower: T,
}

/// One hotplug state with one instance, removed on drop.
///
/// # Invariants
///
/// `state` is a multi-instance hotplug state set up by this object, with `node` as its one
/// instance; `node` stays valid until `drop`.
struct Registration {
    state: c_int,
    node: *mut bindings::hlist_node,
}

impl Registration {
    /// Sets up a state (a BP prepare one if `bp`, else an AP online one) with these callbacks
    /// and adds `node`, calling `startup` for each online CPU.
    ///
    /// # Safety
    ///
    /// `node` must stay valid and unused otherwise until the result is dropped; the callbacks
    /// must be sound for `node`.
    unsafe fn new(
        bp: bool,
        name: &'static CStr,
        startup: Callback,
        teardown: Callback,
        node: *mut bindings::hlist_node,
    ) -> Result<Self> {
        // SAFETY: `name` is static, as the state keeps it; the callbacks have the type the
        // multi-instance API calls them with.
        let state = unsafe { bhlock_cpuhp_setup_multi(bp, name.as_char_ptr(), startup, teardown) };
        if state < 0 {
            return Err(Error::from_errno(state));
        }
        // SAFETY: `state` was set up just above; `node` is valid as the caller promises.
        let ret = unsafe { bhlock_cpuhp_add_instance(state, node) };
        if ret != 0 {
            // SAFETY: Set up above; it has no instance (the add failed and rolled back).
            unsafe { bhlock_cpuhp_remove_multi(state) };
            return Err(Error::from_errno(ret));
        }
        // INVARIANT: `state` was set up above with `node` added to it.
        Ok(Self { state, node })
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: By the type invariant `node` is the state's instance. Once this returns, the
        // teardown callback has run for every online CPU and no callback runs again.
        unsafe { bhlock_cpuhp_remove_instance(self.state, self.node) };
        // SAFETY: The state has no instance left and is not used again.
        unsafe { bhlock_cpuhp_remove_multi(self.state) };
    }
}

/// A follower watching every CPU: [`CpuFollower::coming`] and [`CpuFollower::online`] have
/// run for each CPU that was online when the watch started, and run again for each that comes
/// online while it lives; dropping the watch calls [`CpuFollower::offline`] and
/// [`CpuFollower::gone`] for every CPU online then.
///
/// Covariant in `T`, which is sound as it hands out only `&T`. Each watch takes one dynamic
/// hotplug state of each kind, of which the kernel has few (20 `CPUHP_BP_PREPARE_DYN` ones,
/// shared with all of it; past them setup WARNs and fails): bhlock has one watch, a run's.
pub(crate) struct CpuWatch<T: CpuFollower> {
    // Declared first: removed first, in the reverse order of their creation, and both before
    // the instance they point into.
    _ap: Registration,
    _bp: Registration,
    instance: Pin<KBox<Instance<T>>>,
}

// SAFETY: The nodes are only touched by the hotplug core, under its own locks; the follower is
// `Send + Sync` by the trait's bound.
unsafe impl<T: CpuFollower> Send for CpuWatch<T> {}
// SAFETY: As above; `&CpuWatch` only gives `&T`.
unsafe impl<T: CpuFollower> Sync for CpuWatch<T> {}

impl<T: CpuFollower + 'static> CpuWatch<T> {
    /// Starts following every CPU with `follower`, under the hotplug state names `ap_name` and
    /// `bp_name` (`/sys/devices/system/cpu/hotplug/states`).
    ///
    /// `T: 'static`: a watch that is leaked (`mem::forget`) is never removed, so its callbacks
    /// may run for ever; a follower that borrowed from a stack frame would be reached after
    /// that frame is gone.
    pub(crate) fn new(ap_name: &'static CStr, bp_name: &'static CStr, follower: T) -> Result<Self> {
        let instance = KBox::pin_init(
            pin_init!(Instance {
                ap_node: Opaque::uninit(),
                bp_node: Opaque::uninit(),
                follower,
            }),
            GFP_KERNEL,
        )?;
        // SAFETY: The node is pinned in `instance`, which `Self` drops after the registration;
        // on error the registration is already gone. The callbacks take the node as the
        // `bp_node` of an `Instance<T>`.
        let bp = unsafe {
            Registration::new(
                true,
                bp_name,
                coming::<T>,
                gone::<T>,
                instance.bp_node.get(),
            )
        }?;
        // SAFETY: As above, for `ap_node`; on error `bp` is dropped before `instance`.
        let ap = unsafe {
            Registration::new(
                false,
                ap_name,
                online::<T>,
                offline::<T>,
                instance.ap_node.get(),
            )
        }?;
        Ok(Self {
            _ap: ap,
            _bp: bp,
            instance,
        })
    }

    /// The follower.
    pub(crate) fn follower(&self) -> &T {
        &self.instance.follower
    }
}

/// Which of an instance's nodes a callback is given.
#[derive(Clone, Copy)]
enum Node {
    Ap,
    Bp,
}

/// The follower of the instance whose `which` node `node` is.
///
/// # Safety
///
/// `node` must be the `which` node of a live `Instance<T>`, and the instance must outlive
/// `'a`.
unsafe fn follower_of<'a, T>(node: *mut bindings::hlist_node, which: Node) -> &'a T {
    let node = node.cast::<Opaque<bindings::hlist_node>>();
    // SAFETY: As the caller promises; `Opaque<T>` has the layout of `T`.
    let instance = unsafe {
        match which {
            Node::Ap => &*container_of!(node, Instance<T>, ap_node),
            Node::Bp => &*container_of!(node, Instance<T>, bp_node),
        }
    };
    &instance.follower
}

/// Calls `f` with the callback's CPU; a notification, which cannot fail.
fn notify(cpu: c_uint, f: impl FnOnce(CpuId)) -> c_int {
    if let Some(cpu) = CpuId::from_u32(cpu) {
        f(cpu);
    }
    0
}

// The callbacks. The hotplug core calls each only for the node it was registered with, and
// the instance lives until the watch has removed that node, which waits for its callbacks.

/// The AP state's startup callback.
///
/// # Safety
///
/// `node` must be the `ap_node` of a live [`CpuWatch<T>`]'s instance.
unsafe extern "C" fn online<T: CpuFollower>(cpu: c_uint, node: *mut bindings::hlist_node) -> c_int {
    // SAFETY: As this function requires.
    let follower = unsafe { follower_of::<T>(node, Node::Ap) };
    match CpuId::from_u32(cpu)
        .ok_or(EINVAL)
        .and_then(|cpu| follower.online(cpu))
    {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// The AP state's teardown callback.
///
/// # Safety
///
/// As for [`online`].
unsafe extern "C" fn offline<T: CpuFollower>(
    cpu: c_uint,
    node: *mut bindings::hlist_node,
) -> c_int {
    // SAFETY: As this function requires.
    let follower = unsafe { follower_of::<T>(node, Node::Ap) };
    notify(cpu, |cpu| follower.offline(cpu))
}

/// The BP state's startup callback.
///
/// # Safety
///
/// `node` must be the `bp_node` of a live [`CpuWatch<T>`]'s instance.
unsafe extern "C" fn coming<T: CpuFollower>(cpu: c_uint, node: *mut bindings::hlist_node) -> c_int {
    // SAFETY: As this function requires.
    let follower = unsafe { follower_of::<T>(node, Node::Bp) };
    notify(cpu, |cpu| follower.coming(cpu))
}

/// The BP state's teardown callback.
///
/// # Safety
///
/// As for [`coming`].
unsafe extern "C" fn gone<T: CpuFollower>(cpu: c_uint, node: *mut bindings::hlist_node) -> c_int {
    // SAFETY: As this function requires.
    let follower = unsafe { follower_of::<T>(node, Node::Bp) };
    notify(cpu, |cpu| follower.gone(cpu))
}
