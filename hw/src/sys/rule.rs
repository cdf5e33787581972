//! The sys-lab's finding ids (`SYS-*`): what its emulated NDIS.SYS / ntoskrnl.exe refuses or flags.
//! A scenario's `violations` may name them; `hw/VERIFIER.md` documents each (its second table),
//! and `rule_docs.rs` checks that table, [`ALL`] and the raise sites against each other.

pub const ATTR: &str = "SYS-ATTR";
pub const ATTR_FLAGS: &str = "SYS-ATTR-FLAGS";
pub const ATTR_ORDER: &str = "SYS-ATTR-ORDER";
pub const BUGCHECK: &str = "SYS-BUGCHECK";
pub const BUS_MASTER: &str = "SYS-BUS-MASTER";
pub const CALL_PARAMS: &str = "SYS-CALL-PARAMS";
pub const CHARS: &str = "SYS-CHARS";
pub const CONTEXT: &str = "SYS-CONTEXT";
pub const DPC: &str = "SYS-DPC";
pub const HANDLE: &str = "SYS-HANDLE";
pub const HEADER_REVISION: &str = "SYS-HEADER-REVISION";
pub const HEADER_SIZE: &str = "SYS-HEADER-SIZE";
pub const HEADER_TYPE: &str = "SYS-HEADER-TYPE";
pub const INTERRUPT: &str = "SYS-INTERRUPT";
pub const INTERRUPT_LOCK: &str = "SYS-INTERRUPT-LOCK";
pub const INTERRUPT_ORDER: &str = "SYS-INTERRUPT-ORDER";
pub const IO: &str = "SYS-IO";
pub const IRQL: &str = "SYS-IRQL";
pub const IRQL_BALANCE: &str = "SYS-IRQL-BALANCE";
pub const LAB_LIMIT: &str = "SYS-LAB-LIMIT";
pub const MDL: &str = "SYS-MDL";
pub const NBL: &str = "SYS-NBL";
pub const NOT_REGISTERED: &str = "SYS-NOT-REGISTERED";
pub const NULL: &str = "SYS-NULL";
pub const POOL_FREE: &str = "SYS-POOL-FREE";
pub const POOL_TAG: &str = "SYS-POOL-TAG";
pub const POOL_TYPE: &str = "SYS-POOL-TYPE";
pub const SG_DMA: &str = "SYS-SG-DMA";
pub const SHARED_MEMORY: &str = "SYS-SHARED-MEMORY";
pub const SPINLOCK: &str = "SYS-SPINLOCK";
pub const SPINLOCK_BALANCE: &str = "SYS-SPINLOCK-BALANCE";
pub const STATUS: &str = "SYS-STATUS";
pub const TIMER: &str = "SYS-TIMER";
pub const VERSION: &str = "SYS-VERSION";

/// Every id the sys-lab can raise.
pub const ALL: [&str; 34] = [
    ATTR,
    ATTR_FLAGS,
    ATTR_ORDER,
    BUGCHECK,
    BUS_MASTER,
    CALL_PARAMS,
    CHARS,
    CONTEXT,
    DPC,
    HANDLE,
    HEADER_REVISION,
    HEADER_SIZE,
    HEADER_TYPE,
    INTERRUPT,
    INTERRUPT_LOCK,
    INTERRUPT_ORDER,
    IO,
    IRQL,
    IRQL_BALANCE,
    LAB_LIMIT,
    MDL,
    NBL,
    NOT_REGISTERED,
    NULL,
    POOL_FREE,
    POOL_TAG,
    POOL_TYPE,
    SG_DMA,
    SHARED_MEMORY,
    SPINLOCK,
    SPINLOCK_BALANCE,
    STATUS,
    TIMER,
    VERSION,
];
