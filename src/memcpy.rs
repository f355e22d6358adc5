//! `memcpy` and `memmove` for the static musl binary the image ships.
//!
//! musl's x86-64 `memcpy` moves a few single bytes to align, then the rest with `rep movsq`,
//! which costs tens of cycles however short the copy. A sync copies millions of short runs (each
//! JSON string serde_json writes, each RECORD envelope, hyper's header and body slices), and in
//! the shipped binary musl's `memcpy` and `memmove` took a quarter of the CPU samples (glibc's
//! a twentieth). These copy up to 128 bytes through registers and longer runs with one
//! `rep movsb`, which current x86-64 processors execute as a fast block copy; with them a
//! CPU-bound 1M-record read took about a third less CPU. A static link takes the program's own
//! definitions and leaves libc's out.
//!
//! Only optimised musl builds export them (see `main.rs`): glibc's own are fast already, and
//! without optimisation the small fixed-size copies below might themselves become `memcpy`
//! calls. The tests check every length up to well past the register cases, with every overlap.

use core::arch::asm;

/// C's `memcpy`.
///
/// # Safety
/// As C's: `src` readable and `dest` writable for `n` bytes.
#[cfg(not(test))]
#[unsafe(no_mangle)]
unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller's promise, passed on; `copy` also allows the overlap memcpy forbids.
    unsafe { copy(dest, src, n) };
    dest
}

/// C's `memmove`.
///
/// # Safety
/// As C's: `src` readable and `dest` writable for `n` bytes; they may overlap.
#[cfg(not(test))]
#[unsafe(no_mangle)]
unsafe extern "C" fn memmove(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller's promise, passed on.
    unsafe { copy(dest, src, n) };
    dest
}

/// Copies `n` bytes from `s` to `d` as if through a temporary buffer (the ranges may overlap).
///
/// # Safety
/// `s` must be readable and `d` writable for `n` bytes.
#[inline(always)]
unsafe fn copy(d: *mut u8, s: *const u8, n: usize) {
    // Up to 128 bytes: every piece is loaded before any is stored, which makes overlap harmless;
    // the pieces overlap each other when `n` is not a multiple of their size.
    // SAFETY (all blocks): every offset read or written lies inside `0..n`.
    unsafe {
        match n {
            0 => {}
            1 => *d = *s,
            2..=3 => pair::<u16>(d, s, n),
            4..=7 => pair::<u32>(d, s, n),
            8..=16 => pair::<u64>(d, s, n),
            17..=32 => pair::<u128>(d, s, n),
            33..=64 => {
                let head: [u128; 2] = [load(s), load(s.add(16))];
                let tail: [u128; 2] = [load(s.add(n - 32)), load(s.add(n - 16))];
                store(d, head[0]);
                store(d.add(16), head[1]);
                store(d.add(n - 32), tail[0]);
                store(d.add(n - 16), tail[1]);
            }
            65..=128 => {
                let head: [u128; 4] = [load(s), load(s.add(16)), load(s.add(32)), load(s.add(48))];
                let tail: [u128; 4] =
                    [load(s.add(n - 64)), load(s.add(n - 48)), load(s.add(n - 32)), load(s.add(n - 16))];
                store(d, head[0]);
                store(d.add(16), head[1]);
                store(d.add(32), head[2]);
                store(d.add(48), head[3]);
                store(d.add(n - 64), tail[0]);
                store(d.add(n - 48), tail[1]);
                store(d.add(n - 32), tail[2]);
                store(d.add(n - 16), tail[3]);
            }
            // `d` lies before `s` or at or past `s + n`: a forward copy reads each byte before it
            // could be overwritten (`rep movsb` is defined byte by byte, whatever the overlap).
            _ if (d as usize).wrapping_sub(s as usize) >= n => {
                asm!("rep movsb", inout("rcx") n => _, inout("rdi") d => _, inout("rsi") s => _,
                    options(nostack, preserves_flags));
            }
            _ if d.cast_const() == s => {}
            // `d` starts inside the source: copy backwards, from the last byte (the direction
            // flag is cleared again, as the ABI requires).
            _ => {
                asm!("std", "rep movsb", "cld", inout("rcx") n => _, inout("rdi") d.add(n - 1) => _,
                    inout("rsi") s.add(n - 1) => _, options(nostack));
            }
        }
    }
}

/// Copies `2 ≤ n ≤ 2 × size_of::<T>()` bytes as the first and the last `T` of the range.
#[inline(always)]
unsafe fn pair<T>(d: *mut u8, s: *const u8, n: usize) {
    let size = size_of::<T>();
    // SAFETY: the caller's range holds both pieces.
    unsafe {
        let (head, tail) = (load::<T>(s), load::<T>(s.add(n - size)));
        store(d, head);
        store(d.add(n - size), tail);
    }
}

#[inline(always)]
unsafe fn load<T>(p: *const u8) -> T {
    // SAFETY: the caller's; no alignment needed.
    unsafe { p.cast::<T>().read_unaligned() }
}

#[inline(always)]
unsafe fn store<T>(p: *mut u8, v: T) {
    // SAFETY: the caller's; no alignment needed.
    unsafe { p.cast::<T>().write_unaligned(v) }
}

#[cfg(test)]
mod tests {
    use super::copy;

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + 3) as u8).collect()
    }

    #[test]
    fn copies_every_length_at_every_alignment_and_nothing_else() {
        let source = pattern(400);
        for n in 0..=300 {
            for from in 0..16 {
                for to in 0..16 {
                    let mut target = vec![0xAAu8; 400];
                    // SAFETY: both ranges lie inside their (distinct) buffers.
                    unsafe { copy(target.as_mut_ptr().add(to), source.as_ptr().add(from), n) };
                    assert_eq!(&target[to..to + n], &source[from..from + n], "n={n} from={from} to={to}");
                    assert!(target[..to].iter().chain(&target[to + n..]).all(|&b| b == 0xAA), "n={n}: wrote outside");
                }
            }
        }
    }

    #[test]
    fn overlapping_ranges_copy_as_if_through_a_temporary() {
        for n in 0..=300 {
            for shift in -140i64..=140 {
                let mut buffer = pattern(800);
                let from = 250usize;
                let to = (from as i64 + shift) as usize;
                let mut expected = buffer.clone();
                expected.copy_within(from..from + n, to);
                let base = buffer.as_mut_ptr();
                // SAFETY: both ranges lie inside `buffer`.
                unsafe { copy(base.add(to), base.add(from), n) };
                assert!(buffer == expected, "n={n} shift={shift}");
            }
        }
    }
}
