//! Work spread over a few threads, its results taken in the order it was handed over:
//! the one engine under a query answer's pieces and an export's segments, which both
//! decode on every core while the rest of the bytes arrive, and must keep rows in order.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::sync::{Arc, Mutex, mpsc};
use std::task::{Context, Poll, Wake, Waker};

use tokio::sync::oneshot;

type Job = Box<dyn FnOnce() + Send>;

/// What a piece of work gave: its result, or the message of its panic.
pub(crate) type Outcome<R> = Result<R, String>;

/// Work handed to a few threads; results come back in the order the work was handed over.
pub(crate) struct OrderedWork<R> {
    jobs: Option<mpsc::Sender<Job>>,
    results: VecDeque<oneshot::Receiver<Outcome<R>>>,
}

impl<R: Send + 'static> OrderedWork<R> {
    /// Starts `threads` threads (at least one). They end once this is dropped and the
    /// work already handed over is done; nothing waits for them, so dropping a read
    /// part-way (a cancelled query, an export closed early) never blocks.
    pub(crate) fn new(threads: usize) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..threads.max(1) {
            let queue = queue.clone();
            std::thread::spawn(move || {
                loop {
                    // The lock is held only to take the next job.
                    let job = queue
                        .lock()
                        .map_err(|_| ())
                        .and_then(|q| q.recv().map_err(|_| ()));
                    let Ok(job) = job else {
                        return;
                    };
                    job();
                }
            });
        }
        OrderedWork {
            jobs: Some(jobs),
            results: VecDeque::new(),
        }
    }

    /// Hands `work` to the next free thread.
    pub(crate) fn submit(&mut self, work: impl FnOnce() -> R + Send + 'static) {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            // A panic is that work's outcome; the thread goes on with the next.
            let outcome = catch_unwind(AssertUnwindSafe(work))
                .map_err(|panic| crate::error::panic_message(panic.as_ref()));
            let _ = done.send(outcome);
        });
        if let Some(jobs) = &self.jobs {
            // A send fails only if every thread has gone: the dropped job's result then
            // reads as lost.
            let _ = jobs.send(job);
        }
        self.results.push_back(result);
    }

    /// How many results are still to be taken.
    pub(crate) fn in_flight(&self) -> usize {
        self.results.len()
    }

    /// The oldest work's outcome, awaited; `None` once every result has been taken.
    pub(crate) async fn next(&mut self) -> Option<Outcome<R>> {
        let result = self.results.pop_front()?;
        Some(result.await.unwrap_or_else(|_| Err(LOST.to_owned())))
    }

    /// The oldest work's outcome, waited for on this thread.
    pub(crate) fn next_blocking(&mut self) -> Option<Outcome<R>> {
        let result = self.results.pop_front()?;
        Some(park_until(result).unwrap_or_else(|_| Err(LOST.to_owned())))
    }
}

/// Waits for `future` on this thread, parked between wake-ups. tokio's `blocking_recv`
/// panics inside a runtime; `decode_query_answer` is public and may be called from async
/// code, where it blocks as any CPU-bound call does.
fn park_until<F: Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        // A wake-up between the poll and the park leaves the token set: no wait is lost.
        std::thread::park();
    }
}

const LOST: &str = "a decoding thread ended without a result";

impl<R> Drop for OrderedWork<R> {
    fn drop(&mut self) {
        // Closing the queue ends the threads once the work handed over is done.
        self.jobs = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_the_order_work_was_handed_over() {
        let mut work = OrderedWork::new(3);
        for i in 0..40u64 {
            // Later work finishes first: the order is the handing over's, not the finish's.
            work.submit(move || {
                std::thread::sleep(std::time::Duration::from_micros((40 - i) * 50));
                i
            });
        }
        let got: Vec<u64> = std::iter::from_fn(|| work.next_blocking())
            .map(Result::unwrap)
            .collect();
        assert_eq!(got, (0..40).collect::<Vec<_>>());
    }

    #[test]
    fn a_panic_is_that_work_s_outcome_and_the_rest_goes_on() {
        let mut work = OrderedWork::new(1);
        work.submit(|| 1);
        work.submit(|| panic!("bad piece"));
        work.submit(|| 3);
        assert_eq!(work.next_blocking(), Some(Ok(1)));
        assert_eq!(work.next_blocking(), Some(Err("bad piece".to_owned())));
        assert_eq!(work.next_blocking(), Some(Ok(3)));
        assert_eq!(work.next_blocking(), None);
    }

    #[tokio::test]
    async fn results_can_be_waited_for_inside_a_runtime() {
        let mut work = OrderedWork::new(2);
        work.submit(|| 7);
        work.submit(|| 8);
        assert_eq!(work.next_blocking(), Some(Ok(7)));
        assert_eq!(work.next_blocking(), Some(Ok(8)));
        assert_eq!(work.next_blocking(), None);
    }

    #[tokio::test]
    async fn results_can_be_awaited() {
        let mut work = OrderedWork::new(2);
        for i in 0..5 {
            work.submit(move || i * 2);
        }
        assert_eq!(work.in_flight(), 5);
        let mut got = Vec::new();
        while let Some(outcome) = work.next().await {
            got.push(outcome.unwrap());
        }
        assert_eq!(got, vec![0, 2, 4, 6, 8]);
    }
}
