//! The order in which a round runs its columns, for the benchmarks that time allocators against
//! `System` round by round: column 0 is `System`, the last is `System` again (the control), and
//! the ones between are the allocators compared with it.

/// The columns' order in round `round`: the control, `System`, then the others in the columns'
/// order; all reversed in every other round. A run's time depends on what ran just before it (on
/// this project's machines, `System` run twice in a row read up to 1.05x apart in the median), so
/// a fixed order would favour one column; `System` keeps the control on one side and the first
/// allocator on the other.
pub fn order<const N: usize>(round: usize) -> [usize; N] {
    let forward: [usize; N] = std::array::from_fn(|i| (i + N - 1) % N);
    if round.is_multiple_of(2) {
        forward
    } else {
        std::array::from_fn(|i| forward[N - 1 - i])
    }
}
