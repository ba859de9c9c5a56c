// Calls sopd with no .proto files and no generated code: the service and
// message definitions come from the server itself (gRPC server reflection),
// the way grpcurl works.
//
//   node examples/clients/node/reflect.mjs list
//   node examples/clients/node/reflect.mjs call sopsidebar.v1.AdminService/WhoAmI '{}'
//
// Requests and responses are JSON with the field names of the .proto files.
// A google.protobuf.Value is written as an object naming its kind, e.g.
// {"number_value": 82}. Settings as for sopctl: SOPCTL_SERVER (default
// 127.0.0.1:50051) and SOPCTL_TOKEN_FILE (or SOPCTL_TOKEN).
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { GrpcReflection } from 'grpc-js-reflection-client';

const server = process.env.SOPCTL_SERVER ?? '127.0.0.1:50051';
const credentials = grpc.credentials.createInsecure();
const usage = 'usage: reflect.mjs list | call SERVICE/METHOD JSON';

function bearer() {
  const token = process.env.SOPCTL_TOKEN ?? readFileSync(process.env.SOPCTL_TOKEN_FILE, 'utf8').trim();
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

async function list(reflection) {
  for (const service of (await reflection.listServices()).sort()) {
    console.log(service);
    if (!service.startsWith('sopsidebar.')) continue;
    const root = (await reflection.getDescriptorBySymbol(service)).getProtobufJsRoot();
    for (const method of root.lookupService(service).methodsArray) {
      const stream = method.responseStream ? 'stream ' : '';
      const type = (name) => name.replace(/^\./, "");
      console.log(`  ${method.name}(${type(method.requestType)}) returns (${stream}${type(method.responseType)})`);
    }
  }
}

async function call(reflection, path, json) {
  const [serviceName, methodName] = path.split('/');
  const root = (await reflection.getDescriptorBySymbol(serviceName)).getProtobufJsRoot();
  const method = root.lookupService(serviceName).methods[methodName];
  if (!method || method.responseStream) throw new Error(`${path}: no such unary method`);
  const request = method.resolve().resolvedRequestType;
  const response = method.resolvedResponseType;
  const message = request.fromObject(JSON.parse(json));
  const client = new grpc.Client(server, credentials);
  const reply = await new Promise((resolve, reject) => {
    client.makeUnaryRequest(
        `/${serviceName}/${methodName}`,
        (object) => Buffer.from(request.encode(object).finish()),
        (bytes) => response.decode(bytes),
        message, bearer(), { deadline: Date.now() + 5000 },
        (error, value) => (error ? reject(error) : resolve(value)));
  });
  client.close();
  console.log(JSON.stringify(response.toObject(reply, { longs: String, enums: String, json: true }), null, 2));
}

const [command, ...args] = process.argv.slice(2);
const reflection = new GrpcReflection(server, credentials);
try {
  if (command === 'list' && args.length === 0) {
    await list(reflection);
  } else if (command === 'call' && args.length === 2) {
    await call(reflection, args[0], args[1]);
  } else {
    console.error(usage);
    process.exitCode = 2;
  }
} catch (error) {
  console.error(error.code !== undefined ? `${grpc.status[error.code]}: ${error.details}` : error.message);
  process.exitCode = 1;
}
