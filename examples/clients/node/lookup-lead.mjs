// Asks sopd which procedures apply to a lead, from Node.js, with the
// service definitions read from the project's .proto files at start
// (@grpc/proto-loader: no code generation step).
//
//   npm ci --prefix examples/clients/node
//   node examples/clients/node/lookup-lead.mjs
//
// Settings as for sopctl: SOPCTL_SERVER (default 127.0.0.1:50051) and
// SOPCTL_TOKEN_FILE (or SOPCTL_TOKEN).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const protoRoot = fileURLToPath(new URL('../../../proto', import.meta.url));
const definition = protoLoader.loadSync('sopsidebar/v1/context_service.proto', {
  includeDirs: [protoRoot],
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});
const { ContextService } = grpc.loadPackageDefinition(definition).sopsidebar.v1;

const server = process.env.SOPCTL_SERVER ?? '127.0.0.1:50051';
const token = process.env.SOPCTL_TOKEN ?? readFileSync(process.env.SOPCTL_TOKEN_FILE, 'utf8').trim();
const metadata = new grpc.Metadata();
metadata.set('authorization', `Bearer ${token}`);

const client = new ContextService(server, grpc.credentials.createInsecure());
// The record as the CRM holds it; an empty org means the token's org.
// `fields` is a map of google.protobuf.Value: one kind per value.
const context = {
  recordType: 'Lead',
  recordId: '00Q5e00000ABCDE',
  fields: {
    lead_status: { stringValue: 'MQL – New Handoff' },
    lead_score: { numberValue: 82 },
    company_size: { numberValue: 120 },
    title: { stringValue: 'VP Sales' },
  },
};

client.LookupSops({ context }, metadata, { deadline: Date.now() + 5000 }, (error, response) => {
  client.close();
  if (error) {
    console.error(`${grpc.status[error.code]}: ${error.details}`);
    process.exitCode = 1;
    return;
  }
  for (const match of response.matches) {
    const steps = match.sopBody.steps;
    console.log(`${match.sop} @ rev ${match.revisionId}`);
    if (match.currentStepIndex >= 0) {
      const step = steps[match.currentStepIndex];
      console.log(`  now: step ${match.currentStepIndex + 1}/${steps.length} ${step.title}`);
    }
  }
});
