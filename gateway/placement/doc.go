// Package placement decides which edge nodes hold which shards of an object.
// It is pure: given the candidate nodes and the redundancy it returns a
// placement, or an error saying why none satisfies the rules:
//
//   - no node holds K or more shards of one object, so no single node can
//     rebuild it (with K = 1 every shard is the whole ciphertext, which the
//     rule forbids; such layouts are refused);
//   - without replication (R = 1) no node holds more than max(M, 1) shards,
//     so losing any single node leaves at least K shards;
//   - no organisation's nodes take more than Request.OrgCap slots of an
//     object: at most M×R when there are enough organisations, so that a
//     site partition or the loss of one bank's nodes keeps every object
//     readable, else as evenly as the organisations allow;
//   - shards spread over zones as evenly as the nodes allow, then over nodes;
//   - each shard is held by R distinct nodes (R = 1 until replication is
//     configured);
//   - among equals, nodes with more free capacity are preferred, and the
//     object's own seed breaks remaining ties so load spreads across objects.
package placement
