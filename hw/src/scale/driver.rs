//! The two drivers a [`ScaleLab`](super::ScaleLab) runs: [`CoreDriver`] (the driver core linked
//! in) and [`SysImage`] (the real `atmmcm.sys` in the sys-lab).

use std::sync::Arc;

use atmmcm::ndis::{AalType, VpiVci};
use atmmcm::nic::ConnParams;
use atmmcm::{Adapter, Config};

use super::{ScaleDevice, ScaleDriver, Setup, Wire, model_findings};
use crate::host::{EmuNdis, LiveCounts};

/// Every VC may carry a call at once (a ring each): the configuration of a lab at `max_vcs`,
/// the same for both drivers (the `.sys` gets it as its registry key: the INF defaults with
/// MaxVcs and MaxActiveVcs set).
pub(crate) fn scale_config(max_vcs: usize) -> Config {
    Config { max_vcs, max_active_vcs: max_vcs, ..Config::DEFAULT }
}

/// The driver core, `atmmcm::Adapter`, on NIC `N`, called directly by the emulated NDIS.
pub struct CoreDriver<N: ScaleDevice> {
    pub adapter: Arc<Adapter<EmuNdis, N>>,
}

impl<N: ScaleDevice> CoreDriver<N> {
    /// Initialized (MaxVcs = MaxActiveVcs = `max_vcs`) and attached to the lab's NDIS.
    pub fn build(s: &Setup<'_>, max_vcs: usize) -> Result<CoreDriver<N>, String> {
        let nic = N::build(s.net, s.port, s.clock)?;
        let adapter = match Adapter::initialize(s.ndis.clone(), nic, scale_config(max_vcs)) {
            Ok(a) => Arc::new(a),
            Err(st) => return Err(format!("Adapter::initialize failed: {st}")),
        };
        s.ndis.attach_arc(&adapter);
        let live = Arc::downgrade(&adapter);
        s.ndis.register_alloc_counter("driver live objects", move || {
            live.upgrade().map_or(0, |a| a.live_objects().total())
        });
        Ok(CoreDriver { adapter })
    }

    pub fn nic(&self) -> &N {
        self.adapter.parts().1
    }
}

impl<N: ScaleDevice> ScaleDriver for CoreDriver<N> {
    fn wire(&self, w: &Wire<'_>) -> (bool, bool) {
        self.nic().wire(w)
    }

    fn set_link(&self, up: bool) {
        ScaleDevice::set_link(self.nic(), up);
    }

    fn open_connections(&self) -> usize {
        ScaleDevice::open_connections(self.nic())
    }

    fn cells(&self) -> Option<(u32, u32)> {
        self.nic().cells()
    }

    fn live_objects(&self) -> Option<LiveCounts> {
        Some(self.adapter.live_objects())
    }

    fn signalling_up(&self) -> Option<bool> {
        Some(self.adapter.signalling_up())
    }

    fn held(&self) -> usize {
        self.adapter.live_objects().total()
    }

    fn findings(&self) -> Vec<String> {
        model_findings(self.nic().model().as_ref())
    }

    fn inject_leak(&self) {
        let params = ConnParams { id: VpiVci { vpi: 3, vci: 33 }, aal: AalType::Aal5, tx_pcr: 0, max_rx_sdu: 9188 };
        if let Err(st) = self.nic().open_connection(&params) {
            panic!("inject_leak: open_connection failed: {st}");
        }
    }
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub use sys::SysImage;

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod sys {
    use std::path::Path;
    use std::sync::Arc;

    use super::{ScaleDriver, Setup, Wire, model_findings, scale_config};
    use crate::host::LiveCounts;
    use crate::lab::LAB_TX_FRAMES_PER_STEP;
    use crate::regnic_model::RegNicModel;
    use crate::sys::SysDriver;
    use crate::sys::driver::KERNEL_STACK;

    /// The real `atmmcm.sys` in the sys-lab over the ATM1 model: NDIS reaches it through the
    /// handlers the image registered; its own `RegNic` drives the model's registers (trapped
    /// BAR0 accesses) and DMA rings.
    pub struct SysImage {
        pub sys: Arc<SysDriver>,
        pub model: RegNicModel,
    }

    impl SysImage {
        /// The image at `path` loaded (DriverEntry run), its adapter key holding the INF
        /// defaults with MaxVcs = MaxActiveVcs = `max_vcs`, attached to the lab's NDIS and a
        /// fresh ATM1 model.
        pub fn build(s: &Setup<'_>, path: &Path, max_vcs: usize) -> Result<SysImage, String> {
            let sys = crate::lab::load_sys(path, s.clock, &scale_config(max_vcs))?;
            let model = RegNicModel::new();
            model.set_tx_frames_per_step(LAB_TX_FRAMES_PER_STEP);
            sys.attach(s.ndis, &model);
            Ok(SysImage { sys, model })
        }
    }

    impl ScaleDriver for SysImage {
        fn wire(&self, w: &Wire<'_>) -> (bool, bool) {
            super::super::model_wire(&self.model, w)
        }

        fn set_link(&self, up: bool) {
            self.model.set_los(!up);
        }

        fn open_connections(&self) -> usize {
            self.model.connections_open()
        }

        fn cells(&self) -> Option<(u32, u32)> {
            let c = self.model.counters();
            Some((c.tx_cells, c.rx_cells))
        }

        fn live_objects(&self) -> Option<LiveCounts> {
            None
        }

        fn signalling_up(&self) -> Option<bool> {
            None
        }

        fn held(&self) -> usize {
            self.sys.live_allocations()
        }

        fn findings(&self) -> Vec<String> {
            let mut f = model_findings(Some(&self.model));
            f.extend(self.sys.findings().into_iter().map(|(r, m)| format!("{r}: {m}")));
            let depth = self.sys.max_stack_depth();
            if depth >= KERNEL_STACK {
                f.push(format!("driver stack {depth} bytes, beyond the {KERNEL_STACK}-byte kernel stack"));
            }
            f
        }

        fn inject_leak(&self) {
            self.sys.leak_pool_block(64);
        }
    }
}
