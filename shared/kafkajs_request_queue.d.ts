/** The part of kafkajs's internal RequestQueue class that `kafkajs_fix.ts` replaces. */
declare class RequestQueue {
  scheduleCheckPendingRequests(): void;
}
export default RequestQueue;
