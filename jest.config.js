/** Unit tests live beside each package (…/test/); integration tests, against real nginx, Redis and Postgres, in tests/. */
const tsJest = ["ts-jest", { tsconfig: "tsconfig.test.json" }];
// The pages' modules import each other as the browser does ("./x.js"): jest reads the .ts.
const moduleNameMapper = { "^@flash-sale/contract/(.*)$": "<rootDir>/contract/src/$1", "^(\\.{1,2}/.*)\\.js$": "$1" };

module.exports = {
  // Jest takes testTimeout from here only; in a project's entry it is ignored (5 s would apply).
  testTimeout: 120000,
  projects: [
    {
      displayName: "unit",
      testEnvironment: "node",
      transform: { "^.+\\.ts$": tsJest },
      moduleNameMapper,
      testMatch: ["<rootDir>/{contract,gateway-lua,control-plane,order-worker,node-common,nginx-conf,static}/test/**/*.test.ts"],
    },
    {
      displayName: "integration",
      testEnvironment: "node",
      transform: { "^.+\\.ts$": tsJest },
      moduleNameMapper,
      setupFilesAfterEnv: ["<rootDir>/tests/support/openapi-setup.ts"],
      testMatch: ["<rootDir>/tests/**/*.test.ts"],
    },
  ],
};
