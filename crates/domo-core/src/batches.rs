//! `BatchStream`: Arrow batches produced by a background task (an export, a paged query)
//! and handed over through a bounded channel, so memory stays flat and a consumer that
//! stops reading stops the producer.

use std::future::Future;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::progress::{ReadProgress, ReadProgressFn};

/// Batches produced ahead of the consumer, at most.
const BATCHES_AHEAD: usize = 2;

/// Where a producer puts its batches; a send fails once the consumer is gone.
pub(crate) type BatchSender = mpsc::Sender<Result<RecordBatch>>;

/// A stream of record batches. Dropping it stops the work behind it.
pub struct BatchStream {
    schema: SchemaRef,
    batches: mpsc::Receiver<Result<RecordBatch>>,
    task: JoinHandle<()>,
    progress: Option<Reporter>,
}

impl std::fmt::Debug for BatchStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchStream")
            .field("schema", &self.schema)
            .field("progress", &self.progress.as_ref().map(|r| r.counts))
            .finish_non_exhaustive()
    }
}

/// A stream's progress reporter, what its failure stops, and the counts reported so far.
struct Reporter {
    report: ReadProgressFn,
    stopped: &'static str,
    counts: ReadProgress,
}

impl Drop for BatchStream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl BatchStream {
    /// Runs `produce` on the runtime; its error, if any, is the stream's last item.
    pub(crate) fn spawn<F, Fut>(schema: SchemaRef, produce: F) -> BatchStream
    where
        F: FnOnce(BatchSender) -> Fut,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel(BATCHES_AHEAD);
        let work = produce(tx.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = work.await
                && !matches!(e, Error::Cancelled)
            {
                let _ = tx.send(Err(e)).await;
            }
        });
        BatchStream {
            schema,
            batches: rx,
            task,
            progress: None,
        }
    }

    /// The stream, reporting its progress to `report` (if any) as the consumer takes each
    /// batch and once at the end. A failing report ends the stream with
    /// [`Error::Callback`] carrying `stopped`, which says what was stopped.
    pub(crate) fn with_progress(
        mut self,
        report: Option<ReadProgressFn>,
        stopped: &'static str,
        rows_total: Option<u64>,
    ) -> BatchStream {
        self.progress = report.map(|report| Reporter {
            report,
            stopped,
            counts: ReadProgress {
                rows_total,
                ..ReadProgress::default()
            },
        });
        self
    }

    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The next batch, or `None` at the end.
    pub async fn next(&mut self) -> Option<Result<RecordBatch>> {
        let next = self.batches.recv().await;
        self.reported(next)
    }

    /// The next batch, blocking this thread; for use outside the async runtime.
    pub fn blocking_next(&mut self) -> Option<Result<RecordBatch>> {
        let next = self.batches.blocking_recv();
        self.reported(next)
    }

    /// `next`, once its progress is reported; a failed report ends the stream in its place.
    fn reported(&mut self, next: Option<Result<RecordBatch>>) -> Option<Result<RecordBatch>> {
        let Some(reporter) = self.progress.as_mut() else {
            return next;
        };
        match &next {
            Some(Ok(batch)) => reporter.counts.rows_read += batch.num_rows() as u64,
            None if !reporter.counts.done => reporter.counts.done = true,
            // A failed read is not done: the reporter hears nothing more.
            Some(Err(_)) => {
                self.progress = None;
                return next;
            }
            None => return next,
        }
        let Err(source) = (reporter.report)(reporter.counts) else {
            return next;
        };
        let stopped = reporter.stopped;
        self.close();
        // Batches already produced must not follow the error: a receiver whose sender is
        // gone yields nothing more.
        self.batches = mpsc::channel(1).1;
        Some(Err(Error::Callback { stopped, source }))
    }

    /// Stops the work now; the reporter, if any, hears nothing more.
    pub fn close(&mut self) {
        self.progress = None;
        self.task.abort();
        self.batches.close();
    }
}

/// Hands a batch to the consumer; `Cancelled` when it has gone away.
pub(crate) async fn send(tx: &BatchSender, batch: RecordBatch) -> Result<()> {
    tx.send(Ok(batch)).await.map_err(|_| Error::Cancelled)
}
