//! Synchronous traps out of the driver's code: one SIGSEGV handler for the three things a kernel
//! driver does that fault in a Linux process.
//!
//! - BAR0 accesses: `NdisMMapIoSpace` hands out a `PROT_NONE` window; each access faults, the
//!   instruction is decoded (iced-x86), performed against the NIC model's registers (read,
//!   write-1-to-clear, command side effects happen at that instant) and RIP moves past it.
//!   Handled: `mov` (load/store, register or immediate), `movzx`, and the reads LLVM folds into
//!   `test` / `cmp` / `and` / `or` with a memory operand (flags computed as the CPU would).
//! - `KUSER_SHARED_DATA.InterruptTime` (`0xFFFFF78000000008..14`): reads return the lab's
//!   virtual clock in 100 ns units.
//! - `mov rax, cr8` / `mov cr8, rax` (#GP in user mode): the per-thread IRQL of the lab.
//!
//! Anything else faulting inside a loaded image is fatal: the handler prints the instruction and
//! its symbolised address and aborts (a test cannot unwind through driver frames).

use std::sync::{Arc, Once, RwLock};

use iced_x86::{Decoder, DecoderOptions, Instruction, Mnemonic, OpKind, Register};

use crate::host::Irql;

/// A BAR0 window: register reads and writes at `off` from the window's base.
pub trait Mmio: Send + Sync {
    fn read32(&self, off: u32) -> u32;
    fn write32(&self, off: u32, v: u32);
}

/// Interrupt time (100 ns units) for the faulting thread, and symbolisation for diagnostics.
pub trait TrapHost: Send + Sync {
    fn interrupt_time_100ns(&self) -> u64;
    fn symbolise(&self, addr: usize) -> String;
    /// The faulting thread's RSP (stack-depth sampling).
    fn note_stack(&self, _rsp: usize) {}
}

struct Window {
    base: usize,
    len: usize,
    mmio: Arc<dyn Mmio>,
}

struct Image {
    base: usize,
    len: usize,
    host: Arc<dyn TrapHost>,
}

static WINDOWS: RwLock<Vec<Window>> = RwLock::new(Vec::new());
static IMAGES: RwLock<Vec<Image>> = RwLock::new(Vec::new());
static INSTALL: Once = Once::new();
static mut PREVIOUS: std::mem::MaybeUninit<libc::sigaction> = std::mem::MaybeUninit::uninit();

/// Counters of what was emulated (the tests check that traps really happen).
pub static MMIO_TRAPS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
pub static KUSER_TRAPS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
pub static CR8_TRAPS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

const KUSER_BASE: u64 = 0xFFFF_F780_0000_0000;

/// Maps a no-access window of `len` bytes whose accesses go to `mmio`. Returns its address.
pub fn map_window(len: usize, mmio: Arc<dyn Mmio>) -> Option<usize> {
    install();
    let len = len.div_ceil(4096) * 4096;
    // SAFETY: a fresh anonymous PROT_NONE mapping.
    let p = unsafe {
        libc::mmap(std::ptr::null_mut(), len, libc::PROT_NONE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0)
    };
    if p == libc::MAP_FAILED {
        return None;
    }
    let base = p as usize;
    WINDOWS.write().unwrap_or_else(|e| e.into_inner()).push(Window { base, len, mmio });
    Some(base)
}

/// Removes and unmaps a window from [`map_window`]; false if `base` is not one.
pub fn unmap_window(base: usize) -> bool {
    let mut w = WINDOWS.write().unwrap_or_else(|e| e.into_inner());
    let Some(i) = w.iter().position(|x| x.base == base) else { return false };
    let x = w.remove(i);
    // SAFETY: the window's own mapping, no longer reachable through the table.
    unsafe { libc::munmap(x.base as *mut libc::c_void, x.len) };
    true
}

/// Registers a loaded image: faults whose RIP is inside it are the driver's.
pub fn register_image(base: usize, len: usize, host: Arc<dyn TrapHost>) {
    install();
    IMAGES.write().unwrap_or_else(|e| e.into_inner()).push(Image { base, len, host });
}

pub fn unregister_image(base: usize) {
    IMAGES.write().unwrap_or_else(|e| e.into_inner()).retain(|i| i.base != base);
}

fn install() {
    INSTALL.call_once(|| {
        // SAFETY: a zeroed sigaction is a valid value to fill in.
        let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
        sa.sa_sigaction = on_segv as *const () as usize;
        sa.sa_flags = libc::SA_SIGINFO;
        // SAFETY: `sa.sa_mask` is a valid sigset.
        unsafe { libc::sigemptyset(&mut sa.sa_mask) };
        // SAFETY: PREVIOUS is written once, here, before the handler can run.
        let prev = unsafe { (*std::ptr::addr_of_mut!(PREVIOUS)).as_mut_ptr() };
        // SAFETY: valid sigaction pointers.
        unsafe { libc::sigaction(libc::SIGSEGV, &sa, prev) };
    });
}

fn greg(r: Register) -> Option<usize> {
    use libc::*;
    let i = match r.full_register() {
        Register::RAX => REG_RAX,
        Register::RBX => REG_RBX,
        Register::RCX => REG_RCX,
        Register::RDX => REG_RDX,
        Register::RSI => REG_RSI,
        Register::RDI => REG_RDI,
        Register::RBP => REG_RBP,
        Register::RSP => REG_RSP,
        Register::R8 => REG_R8,
        Register::R9 => REG_R9,
        Register::R10 => REG_R10,
        Register::R11 => REG_R11,
        Register::R12 => REG_R12,
        Register::R13 => REG_R13,
        Register::R14 => REG_R14,
        Register::R15 => REG_R15,
        _ => return None,
    };
    Some(i as usize)
}

/// The machine state the emulation reads and writes (the signal context's general registers).
pub struct Regs<'a> {
    pub g: &'a mut [i64; 23],
}

impl Regs<'_> {
    fn get(&self, r: Register) -> Option<u64> {
        if matches!(r, Register::AH | Register::BH | Register::CH | Register::DH) {
            return None;
        }
        let v = self.g[greg(r)?] as u64;
        Some(match r.size() {
            1 => v & 0xFF,
            2 => v & 0xFFFF,
            4 => v & 0xFFFF_FFFF,
            _ => v,
        })
    }

    fn set(&mut self, r: Register, v: u64) -> Option<()> {
        if matches!(r, Register::AH | Register::BH | Register::CH | Register::DH) {
            return None;
        }
        let i = greg(r)?;
        let old = self.g[i] as u64;
        let new = match r.size() {
            1 => (old & !0xFF) | (v & 0xFF),
            2 => (old & !0xFFFF) | (v & 0xFFFF),
            4 => v & 0xFFFF_FFFF, // 32-bit writes zero-extend
            _ => v,
        };
        self.g[i] = new as i64;
        Some(())
    }
}

const CF: u64 = 0x1;
const PF: u64 = 0x4;
const AF: u64 = 0x10;
const ZF: u64 = 0x40;
const SF: u64 = 0x80;
const OF: u64 = 0x800;

fn mask(bytes: usize) -> u64 {
    if bytes >= 8 { u64::MAX } else { (1u64 << (bytes * 8)) - 1 }
}

/// EFLAGS after a logical operation (`test`, `and`, `or`) with result `r`.
pub fn logic_flags(flags: u64, r: u64, bytes: usize) -> u64 {
    let r = r & mask(bytes);
    let mut f = flags & !(CF | PF | ZF | SF | OF);
    if r == 0 {
        f |= ZF;
    }
    if r >> (bytes * 8 - 1) & 1 == 1 {
        f |= SF;
    }
    if (r as u8).count_ones().is_multiple_of(2) {
        f |= PF;
    }
    f
}

/// EFLAGS after `a - b` (`cmp`, `sub`).
pub fn sub_flags(flags: u64, a: u64, b: u64, bytes: usize) -> u64 {
    let m = mask(bytes);
    let (a, b) = (a & m, b & m);
    let r = a.wrapping_sub(b) & m;
    let mut f = logic_flags(flags, r, bytes) & !AF;
    if a < b {
        f |= CF;
    }
    if ((a ^ b) & (a ^ r)) >> (bytes * 8 - 1) & 1 == 1 {
        f |= OF;
    }
    if (a ^ b ^ r) & 0x10 != 0 {
        f |= AF;
    }
    f
}

/// Where a memory operand points.
enum Target<'a> {
    Mmio(&'a dyn Mmio, u32),
    Kuser(u64),
}

fn mem_read(t: &Target<'_>, bytes: usize, host: &dyn TrapHost) -> Result<u64, String> {
    match *t {
        Target::Mmio(m, off) => {
            let word = m.read32(off & !3);
            let shift = (off & 3) * 8;
            if (off & 3) as usize + bytes > 4 {
                return Err(format!("{bytes}-byte BAR0 read at {off:#x} crosses a register"));
            }
            Ok((u64::from(word) >> shift) & mask(bytes))
        }
        Target::Kuser(off) => {
            // KSYSTEM_TIME InterruptTime at +8: LowPart (+8), High1Time (+0xC), High2Time (+0x10).
            let t = host.interrupt_time_100ns();
            let mut page = [0u8; 0x18];
            page[8..12].copy_from_slice(&(t as u32).to_le_bytes());
            page[12..16].copy_from_slice(&((t >> 32) as u32).to_le_bytes());
            page[16..20].copy_from_slice(&((t >> 32) as u32).to_le_bytes());
            let o = off as usize;
            if !(8..0x14).contains(&o) || o + bytes > 0x14 {
                return Err(format!("KUSER_SHARED_DATA read at +{off:#x} ({bytes} bytes) is not InterruptTime"));
            }
            let mut b = [0u8; 8];
            b[..bytes].copy_from_slice(&page[o..o + bytes]);
            Ok(u64::from_le_bytes(b))
        }
    }
}

fn mem_write(t: &Target<'_>, bytes: usize, v: u64) -> Result<(), String> {
    match *t {
        Target::Mmio(m, off) if bytes == 4 && off & 3 == 0 => {
            m.write32(off, v as u32);
            Ok(())
        }
        Target::Mmio(_, off) => Err(format!("{bytes}-byte BAR0 write at {off:#x} (registers are 32-bit)")),
        Target::Kuser(off) => Err(format!("write to KUSER_SHARED_DATA+{off:#x}")),
    }
}

fn operand_value(ins: &Instruction, i: u32, regs: &Regs<'_>) -> Option<u64> {
    match ins.op_kind(i) {
        OpKind::Register => regs.get(ins.op_register(i)),
        OpKind::Immediate8
        | OpKind::Immediate16
        | OpKind::Immediate32
        | OpKind::Immediate64
        | OpKind::Immediate8to16
        | OpKind::Immediate8to32
        | OpKind::Immediate8to64
        | OpKind::Immediate32to64 => Some(ins.immediate(i)),
        _ => None,
    }
}

/// Emulates one faulting instruction. `Ok(true)` = done (RIP must advance), `Ok(false)` = not an
/// access this module handles.
pub fn emulate(ins: &Instruction, regs: &mut Regs<'_>, flags: &mut u64, host: &dyn TrapHost) -> Result<bool, String> {
    // mov cr8 <-> r64: the thread's IRQL.
    if ins.mnemonic() == Mnemonic::Mov && ins.op_count() == 2 {
        if ins.op_kind(0) == OpKind::Register && ins.op_register(0) == Register::CR8 {
            let v = regs.get(ins.op_register(1)).ok_or("mov cr8 from an unsupported register")?;
            let irql = match v {
                0 => Irql::Passive,
                1 => Irql::Apc,
                2 => Irql::Dispatch,
                _ => Irql::Device,
            };
            crate::host::set_irql(irql);
            CR8_TRAPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Ok(true);
        }
        if ins.op_kind(1) == OpKind::Register && ins.op_register(1) == Register::CR8 {
            let v = crate::host::current_irql() as u64;
            regs.set(ins.op_register(0), v).ok_or("mov to cr8's unsupported destination")?;
            CR8_TRAPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Ok(true);
        }
    }
    let Some(mi) = (0..ins.op_count()).find(|&i| ins.op_kind(i) == OpKind::Memory) else { return Ok(false) };
    let addr = ins
        .virtual_address(mi, 0, |r, _, _| match r {
            Register::ES | Register::CS | Register::SS | Register::DS => Some(0),
            r => regs.get(r),
        })
        .ok_or("cannot compute the effective address")?;
    let windows = WINDOWS.read().unwrap_or_else(|e| e.into_inner());
    let target = if let Some(w) = windows.iter().find(|w| (addr as usize) >= w.base && (addr as usize) < w.base + w.len)
    {
        Target::Mmio(&*w.mmio, (addr as usize - w.base) as u32)
    } else if (KUSER_BASE..KUSER_BASE + 0x1000).contains(&addr) {
        KUSER_TRAPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Target::Kuser(addr - KUSER_BASE)
    } else {
        return Ok(false);
    };
    if matches!(target, Target::Mmio(..)) {
        MMIO_TRAPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    let bytes = ins.memory_size().size();
    let other = if mi == 0 { 1 } else { 0 };
    match (ins.mnemonic(), mi) {
        // mov reg, [mem]
        (Mnemonic::Mov, 1) => {
            let v = mem_read(&target, bytes, host)?;
            regs.set(ins.op_register(0), v).ok_or("mov: unsupported destination")?;
        }
        // mov [mem], reg/imm
        (Mnemonic::Mov, 0) => {
            let v = operand_value(ins, 1, regs).ok_or("mov: unsupported source")?;
            mem_write(&target, bytes, v)?;
        }
        (Mnemonic::Movzx, 1) => {
            let v = mem_read(&target, bytes, host)?;
            regs.set(ins.op_register(0), v).ok_or("movzx: unsupported destination")?;
        }
        (Mnemonic::Test, _) => {
            let a = mem_read(&target, bytes, host)?;
            let b = operand_value(ins, other, regs).ok_or("test: unsupported operand")?;
            *flags = logic_flags(*flags, a & b, bytes);
        }
        (Mnemonic::Cmp, _) => {
            let m = mem_read(&target, bytes, host)?;
            let o = operand_value(ins, other, regs).ok_or("cmp: unsupported operand")?;
            let (a, b) = if mi == 0 { (m, o) } else { (o, m) };
            *flags = sub_flags(*flags, a, b, bytes);
        }
        // and/or reg, [mem]: a folded read.
        (Mnemonic::And | Mnemonic::Or, 1) => {
            let m = mem_read(&target, bytes, host)?;
            let r = ins.op_register(0);
            let a = regs.get(r).ok_or("and/or: unsupported register")?;
            let v = if ins.mnemonic() == Mnemonic::And { a & m } else { a | m };
            regs.set(r, v).ok_or("and/or: unsupported register")?;
            *flags = logic_flags(*flags, v, bytes);
        }
        (m, _) => return Err(format!("unsupported trapped instruction {m:?}")),
    }
    Ok(true)
}

extern "C" fn on_segv(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid ucontext_t to an SA_SIGINFO handler.
    let uc = unsafe { &mut *ctx.cast::<libc::ucontext_t>() };
    let rip = uc.uc_mcontext.gregs[libc::REG_RIP as usize] as usize;
    let host = {
        let images = IMAGES.read().unwrap_or_else(|e| e.into_inner());
        images.iter().find(|i| rip >= i.base && rip < i.base + i.len).map(|i| i.host.clone())
    };
    let Some(host) = host else {
        chain(sig, info, ctx);
        return;
    };
    // SAFETY: RIP is inside a mapped executable section of the image; an instruction is at most
    // 15 bytes and sections are page-padded.
    let bytes = unsafe { std::slice::from_raw_parts(rip as *const u8, 15) };
    let mut dec = Decoder::with_ip(64, bytes, rip as u64, DecoderOptions::NONE);
    let ins = dec.decode();
    host.note_stack(uc.uc_mcontext.gregs[libc::REG_RSP as usize] as usize);
    let mut flags = uc.uc_mcontext.gregs[libc::REG_EFL as usize] as u64;
    let mut regs = Regs { g: &mut uc.uc_mcontext.gregs };
    match emulate(&ins, &mut regs, &mut flags, &*host) {
        Ok(true) => {
            uc.uc_mcontext.gregs[libc::REG_EFL as usize] = flags as i64;
            uc.uc_mcontext.gregs[libc::REG_RIP as usize] = (rip + ins.len()) as i64;
        }
        r => {
            let why = match r {
                Err(e) => e,
                _ => "fault not emulated".to_string(),
            };
            // SAFETY: `info` is the kernel's siginfo for this fault.
            let addr = unsafe { (*info).si_addr() } as usize;
            eprintln!(
                "sys-lab: FATAL fault in the driver at {} (rip {rip:#x}, `{:?}`, address {addr:#x}): {why}",
                host.symbolise(rip),
                ins.code()
            );
            std::process::abort();
        }
    }
}

fn chain(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: PREVIOUS was written by `install` before this handler was installed.
    let prev = unsafe { (*std::ptr::addr_of!(PREVIOUS)).assume_init_ref() };
    let h = prev.sa_sigaction;
    if h == libc::SIG_DFL || h == libc::SIG_IGN {
        // Restore the default and return: the fault repeats and kills the process as usual.
        // SAFETY: resetting a signal disposition.
        unsafe { libc::signal(sig, libc::SIG_DFL) };
        return;
    }
    if prev.sa_flags & libc::SA_SIGINFO != 0 {
        // SAFETY: the previous handler was installed with this signature.
        let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) = unsafe { std::mem::transmute(h) };
        f(sig, info, ctx);
    } else {
        // SAFETY: the previous handler was installed with this signature.
        let f: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(h) };
        f(sig);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trap_flags_match_the_cpu_for_test_and_cmp() {
        // test eax, eax with 0: ZF|PF; with 0x80000000: SF|PF.
        assert_eq!(logic_flags(0, 0, 4), ZF | PF);
        assert_eq!(logic_flags(CF | OF, 0x8000_0000, 4), SF | PF);
        // cmp 1, 2: borrow -> CF, SF, AF; result 0xFFFFFFFF has even parity.
        assert_eq!(sub_flags(0, 1, 2, 4), CF | SF | AF | PF);
        // cmp 0x80000000, 1: signed overflow.
        assert_eq!(sub_flags(0, 0x8000_0000, 1, 4) & OF, OF);
        assert_eq!(sub_flags(0, 5, 5, 4), ZF | PF);
    }

    fn decode(bytes: &[u8]) -> Instruction {
        Decoder::with_ip(64, bytes, 0x1000, DecoderOptions::NONE).decode()
    }

    struct Fake(std::sync::Mutex<Vec<(u32, u32)>>);
    impl Mmio for Fake {
        fn read32(&self, off: u32) -> u32 {
            0xAB00_0000 | off
        }
        fn write32(&self, off: u32, v: u32) {
            self.0.lock().unwrap().push((off, v));
        }
    }
    struct Host;
    impl TrapHost for Host {
        fn interrupt_time_100ns(&self) -> u64 {
            0x1_2345_6789
        }
        fn symbolise(&self, a: usize) -> String {
            format!("{a:#x}")
        }
    }

    #[test]
    fn trap_emulates_mmio_load_store_test_and_kuser_reads() {
        let fake = Arc::new(Fake(Default::default()));
        let base = map_window(4096, fake.clone()).unwrap();
        let mut g = [0i64; 23];
        g[libc::REG_RCX as usize] = base as i64;
        g[libc::REG_RAX as usize] = -1;
        let mut flags = 0;
        // mov eax, [rcx+0x10]
        let mut r = Regs { g: &mut g };
        assert!(emulate(&decode(&[0x8B, 0x41, 0x10]), &mut r, &mut flags, &Host).unwrap());
        assert_eq!(g[libc::REG_RAX as usize], 0xAB00_0010, "32-bit load zero-extends");
        // mov dword [rcx+0x20], 0x55
        let mut r = Regs { g: &mut g };
        assert!(emulate(&decode(&[0xC7, 0x41, 0x20, 0x55, 0, 0, 0]), &mut r, &mut flags, &Host).unwrap());
        assert_eq!(fake.0.lock().unwrap().as_slice(), &[(0x20, 0x55)]);
        // test dword [rcx+4], 0x100  (0xAB000004 & 0x100 == 0 -> ZF)
        let mut r = Regs { g: &mut g };
        assert!(emulate(&decode(&[0xF7, 0x41, 0x04, 0, 1, 0, 0]), &mut r, &mut flags, &Host).unwrap());
        assert_eq!(flags & ZF, ZF);
        // mov rax, [0xFFFFF78000000008] (moffs form)
        let mut r = Regs { g: &mut g };
        let ins = decode(&[0x48, 0xA1, 0x08, 0, 0, 0, 0x80, 0xF7, 0xFF, 0xFF]);
        assert!(emulate(&ins, &mut r, &mut flags, &Host).unwrap());
        assert_eq!(g[libc::REG_RAX as usize], 0x1_2345_6789);
        // A store of 2 bytes to BAR0 is refused (registers are 32-bit).
        let mut r = Regs { g: &mut g };
        assert!(emulate(&decode(&[0x66, 0x89, 0x41, 0x20]), &mut r, &mut flags, &Host).is_err());
        // An address outside every window is not ours.
        g[libc::REG_RCX as usize] = 0x1000;
        let mut r = Regs { g: &mut g };
        assert!(!emulate(&decode(&[0x8B, 0x41, 0x10]), &mut r, &mut flags, &Host).unwrap());
        assert!(unmap_window(base));
    }
}
